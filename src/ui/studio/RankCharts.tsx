// Rank growth and slow vs fast. Effective rank of the accumulated update after each iteration (per run,
// for one layer or the mean over layers): LoRA stays ≤ r, COLA and LoRASC grow towards T·r. The
// singular-value spectrum of one layer's update after the last iteration. The fast expert's norm in
// each iteration against the slow accumulated update's norm.
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { type RunView, useStudio } from '../studioStore';
import { colorOf, stepTick as wholeTick } from './Charts';

const MEAN = '(mean over layers)';

function layerValue(it: RunView['iterations'][number], layer: string, pick: (l: RunView['iterations'][number]['layers'][number]) => number | null): number | null {
  const ls = layer === MEAN ? it.layers : it.layers.filter((l) => l.path === layer);
  const vs = ls.map(pick).filter((v): v is number => v !== null);
  return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null;
}

export function RankCharts() {
  const runs = useStudio((s) => s.runs);
  const order = useStudio((s) => s.order);
  const withIt = order.map((id) => runs[id]).filter((r): r is RunView => !!r && r.iterations.length > 0);
  const layers = [...new Set(withIt.flatMap((r) => r.iterations[0].layers.map((l) => l.path)))];
  const [layer, setLayer] = useState(MEAN);
  const [specRun, setSpecRun] = useState('');
  const chosen = layers.includes(layer) ? layer : MEAN;
  const spec = runs[specRun] ?? withIt[withIt.length - 1];
  const specLayer = chosen === MEAN ? spec?.iterations[0]?.layers[0]?.path : chosen;
  const lastIt = spec?.iterations[spec.iterations.length - 1];
  const sv = lastIt?.layers.find((l) => l.path === specLayer)?.singularValues ?? [];
  const svMax = sv[0] || 1;
  return (
    <section aria-labelledby="rank-heading" className="panel wide">
      <h2 id="rank-heading">Rank growth and slow vs fast</h2>
      {withIt.length === 0 ? <p className="empty">After each cascade iteration (and at the end of a LoRA run) the rank of the accumulated update appears here.</p> : (
        <>
          <p className="controls">
            <label>Layer <select value={chosen} onChange={(e) => setLayer(e.target.value)} data-testid="rank-layer">
              {[MEAN, ...layers].map((l) => <option key={l} value={l}>{l}</option>)}
            </select></label>
            <label>Spectrum of <select value={spec?.id ?? ''} onChange={(e) => setSpecRun(e.target.value)}>
              {withIt.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
            </select></label>
          </p>
          <div className="small-charts">
            <figure className="chart small" data-testid="rank-chart">
              <figcaption><span><strong>Effective rank</strong> (σ &gt; 10⁻³·σmax) per iteration</span></figcaption>
              <ResponsiveContainer width="100%" height={190}>
                <LineChart margin={{ top: 4, right: 8, bottom: 4, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
                  <XAxis dataKey="x" type="number" allowDecimals={false} allowDuplicatedCategory={false} domain={[1, 'dataMax']} tickFormatter={wholeTick} label={{ value: 'iteration', position: 'insideBottomRight', offset: -2 }} />
                  <YAxis allowDecimals={false} width={36} />
                  <Tooltip />
                  <Legend />
                  {withIt.map((r) => (
                    <Line key={r.id} name={r.label} data={r.iterations.map((it) => ({ x: it.iteration, y: layerValue(it, chosen, (l) => l.effectiveRank) }))}
                      dataKey="y" stroke={colorOf(order, r.id)} isAnimationActive={false} />
                  ))}
                </LineChart>
              </ResponsiveContainer>
            </figure>
            <figure className="chart small" data-testid="spectrum-chart">
              <figcaption><span><strong>Singular values</strong> of ΔW, {specLayer}, {spec?.label} (relative to σmax)</span></figcaption>
              <ResponsiveContainer width="100%" height={190}>
                <BarChart data={sv.map((s, i) => ({ i: i + 1, y: Math.max(s / svMax, 1e-6) }))} margin={{ top: 4, right: 8, bottom: 4, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
                  <XAxis dataKey="i" />
                  <YAxis scale="log" domain={[1e-4, 1]} allowDataOverflow width={48} tickFormatter={(v: number) => v.toExponential(0)} />
                  <Tooltip formatter={(v) => (typeof v === 'number' ? v.toExponential(2) : String(v))} />
                  <Bar dataKey="y" name="σ / σmax" fill={spec ? colorOf(order, spec.id) : '#2563eb'} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
            <figure className="chart small" data-testid="slowfast-chart">
              <figcaption><span><strong>Slow vs fast</strong>: ‖fast expert‖ (solid) and ‖slow update‖ (dashed), Frobenius</span></figcaption>
              <ResponsiveContainer width="100%" height={190}>
                <LineChart margin={{ top: 4, right: 8, bottom: 4, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
                  <XAxis dataKey="x" type="number" allowDecimals={false} allowDuplicatedCategory={false} domain={[1, 'dataMax']} tickFormatter={wholeTick} />
                  <YAxis width={52} tickFormatter={(v: number) => v.toPrecision(2)} />
                  <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} />
                  {withIt.flatMap((r) => [
                    <Line key={`${r.id}f`} name={`${r.label} fast`} data={r.iterations.map((it) => ({ x: it.iteration, y: layerValue(it, chosen, (l) => l.fastNorm) }))} dataKey="y" stroke={colorOf(order, r.id)} isAnimationActive={false} />,
                    <Line key={`${r.id}s`} name={`${r.label} slow`} data={r.iterations.map((it) => ({ x: it.iteration, y: layerValue(it, chosen, (l) => l.slowNorm) }))} dataKey="y" stroke={colorOf(order, r.id)} strokeDasharray="5 4" isAnimationActive={false} />,
                  ])}
                </LineChart>
              </ResponsiveContainer>
            </figure>
          </div>
        </>
      )}
    </section>
  );
}
