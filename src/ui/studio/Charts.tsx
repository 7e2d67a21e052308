// Live charts (recharts). Loss: every run overlaid (train solid, validation dashed), log-y and EMA
// smoothing, merge points of the selected cascade run marked. Small charts: learning rate, gradient
// norm, tokens/s. Series are downsampled to a few hundred points so rendering stays cheap.
import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepPoint } from '../../worker/protocol';
import { type RunView, useStudio } from '../studioStore';

export const RUN_COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4d7c0f'];
const MAX_POINTS = 300;

export function colorOf(order: string[], id: string): string {
  return RUN_COLORS[Math.max(0, order.indexOf(id)) % RUN_COLORS.length];
}

function smooth(points: { x: number; y: number }[], factor: number): { x: number; y: number }[] {
  if (factor <= 0) return points;
  let acc: number | undefined;
  return points.map((p) => {
    acc = acc === undefined ? p.y : factor * acc + (1 - factor) * p.y;
    return { x: p.x, y: acc };
  });
}

function thin<T>(xs: T[]): T[] {
  if (xs.length <= MAX_POINTS) return xs;
  const k = Math.ceil(xs.length / MAX_POINTS);
  return xs.filter((_, i) => i % k === 0 || i === xs.length - 1);
}

/** Step axes: whole steps only (recharts may still place a tick at a fraction on a short run). */
export const stepTick = (v: number) => (Number.isInteger(v) ? String(v) : '');
const fmt = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

export function LossChart() {
  const runs = useStudio((s) => s.runs);
  const order = useStudio((s) => s.order);
  const [logY, setLogY] = useState(false);
  const [smoothing, setSmoothing] = useState(0.6);
  const [markRun, setMarkRun] = useState<string>('');
  const visible = order.map((id) => runs[id]).filter((r): r is RunView => !!r && (r.steps.length > 0 || r.evals.length > 0));
  const series = useMemo(() => visible.map((r) => ({
    run: r,
    train: thin(smooth(r.steps.map((p) => ({ x: p.step, y: p.loss })).filter((p) => Number.isFinite(p.y)), smoothing)),
    val: r.evals.map((e) => ({ x: e.step, y: e.valLoss })),
  })), [visible, smoothing]);
  const marked = runs[markRun] ?? visible.find((r) => r.iterations.length > 1);
  const merges = marked ? marked.iterations.map((it) => it.step) : [];
  return (
    <figure className="chart" aria-labelledby="loss-title" data-testid="loss-chart">
      <figcaption id="loss-title">
        <strong>Loss</strong> — train (solid, smoothed) and validation (dashed) per run
        <span className="controls">
          <label className="check"><input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> log y</label>
          <label>smoothing <input type="range" min={0} max={0.95} step={0.05} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /></label>
          <label>merges of <select value={marked?.id ?? ''} onChange={(e) => setMarkRun(e.target.value)}>
            <option value="">(first cascade run)</option>
            {visible.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
          </select></label>
        </span>
      </figcaption>
      {series.length === 0 ? <p className="empty">Press Train: the curves appear here within seconds.</p> : (
        <ResponsiveContainer width="100%" height={280}>
          <LineChart margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} allowDuplicatedCategory={false} label={{ value: 'step', position: 'insideBottomRight', offset: -4 }} tickFormatter={stepTick} />
            <YAxis type="number" scale={logY ? 'log' : 'auto'} domain={['auto', 'auto']} allowDataOverflow tickFormatter={fmt} width={56} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(l) => `step ${l}`} />
            <Legend />
            {merges.map((x) => <ReferenceLine key={`m${x}`} x={x} stroke="#9ca3af" strokeDasharray="2 4" />)}
            {series.map(({ run, train }) => (
              <Line key={`${run.id}-t`} data={train} dataKey="y" name={`${run.label} train`} stroke={colorOf(order, run.id)} dot={false} isAnimationActive={false} strokeWidth={1.6} />
            ))}
            {series.filter((s) => s.val.length).map(({ run, val }) => (
              <Line key={`${run.id}-v`} data={val} dataKey="y" name={`${run.label} val`} stroke={colorOf(order, run.id)} strokeDasharray="5 4" dot={{ r: 2 }} isAnimationActive={false} strokeWidth={1.6} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
      {merges.length > 1 && <p className="note">Grey dotted lines: the merge points (iteration ends) of {marked?.label}.</p>}
    </figure>
  );
}

function SmallChart({ title, pick, testId }: { title: string; pick: (p: StepPoint) => number; testId: string }) {
  const runs = useStudio((s) => s.runs);
  const order = useStudio((s) => s.order);
  const visible = order.map((id) => runs[id]).filter((r): r is RunView => !!r && r.steps.length > 0);
  return (
    <figure className="chart small" data-testid={testId}>
      <figcaption><strong>{title}</strong></figcaption>
      <ResponsiveContainer width="100%" height={150}>
        <LineChart margin={{ top: 4, right: 8, bottom: 4, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
          <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} allowDuplicatedCategory={false} tickFormatter={stepTick} />
          <YAxis tickFormatter={fmt} width={64} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} labelFormatter={(l) => `step ${l}`} />
          {visible.map((r) => (
            <Line key={r.id} data={thin(r.steps.map((p) => ({ x: p.step, y: pick(p) })))} dataKey="y" name={r.label} stroke={colorOf(order, r.id)} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function TrainingCharts() {
  return (
    <section aria-labelledby="charts-heading" className="panel wide">
      <h2 id="charts-heading">Training curves</h2>
      <LossChart />
      <div className="small-charts">
        <SmallChart title="Learning rate" pick={(p) => p.lr} testId="lr-chart" />
        <SmallChart title="Gradient norm (before clipping)" pick={(p) => p.gradNorm} testId="gradnorm-chart" />
        <SmallChart title="Tokens / s (targets per second)" pick={(p) => p.tokensPerSec} testId="tps-chart" />
      </div>
    </section>
  );
}
