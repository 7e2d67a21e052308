// Try the result: the base model and a fine-tuned run side by side — text generation for a GPT-2,
// top-3 labels of a dropped image for a ViT. Output is rendered as text, never as HTML.
import { useMemo, useState } from 'react';
import { useStudio } from '../studioStore';

export function TryPanel() {
  const kind = useStudio((s) => s.model.value?.kind);
  const client = useStudio((s) => s.client);
  const allRuns = useStudio((s) => s.runs);
  const order = useStudio((s) => s.order);
  const runs = useMemo(() => order.map((id) => allRuns[id]).filter((r) => r && !r.archived && r.summary), [allRuns, order]);
  const [runId, setRunId] = useState('');
  const [prompt, setPrompt] = useState('A fool and his money');
  const [out, setOut] = useState<{ base: string; tuned: string | null } | null>(null);
  const [labels, setLabels] = useState<{ base: string; tuned: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  if (!kind) return null;
  const chosen = runs.find((r) => r.id === runId) ?? runs[runs.length - 1];
  const run = async (f: () => Promise<void>) => {
    setBusy(true); setError('');
    try { await f(); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } finally { setBusy(false); }
  };
  const fmt = (xs: { label: string; prob: number }[]) => xs.map((x) => `${x.label} ${(100 * x.prob).toFixed(1)} %`).join(', ');
  return (
    <section aria-labelledby="try-heading" className="panel wide">
      <h2 id="try-heading">Try it: base vs fine-tuned</h2>
      <p className="row">
        <label>Fine-tuned run <select value={chosen?.id ?? ''} onChange={(e) => setRunId(e.target.value)} data-testid="try-run">
          <option value="">(none: base only)</option>
          {runs.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
        </select></label>
      </p>
      {kind === 'gpt2' ? (
        <>
          <div className="row">
            <input className="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="try-prompt" aria-label="Prompt" />
            <button type="button" disabled={busy} data-testid="try-generate" onClick={() => run(async () => {
              setOut(await client.request('generate', { prompt, runId: chosen?.id ?? null, maxNewTokens: 40, temperature: 0.8, topK: 40, seed: 1 }));
            })}>Generate</button>
          </div>
          {out && (
            <div className="side-by-side">
              <div><h3>Base</h3><pre data-testid="try-base">{out.base}</pre></div>
              <div><h3>Fine-tuned</h3><pre data-testid="try-tuned">{out.tuned ?? '(no run chosen)'}</pre></div>
            </div>
          )}
        </>
      ) : (
        <>
          <label className="drop">Drop or choose an image
            <input type="file" accept="image/*" data-testid="try-image" onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void run(async () => {
                const r = await client.request('classify', { image: await f.arrayBuffer(), name: f.name, runId: chosen?.id ?? null });
                setLabels({ base: fmt(r.base), tuned: r.tuned ? fmt(r.tuned) : null });
              });
            }} />
          </label>
          {labels && (
            <div className="side-by-side">
              <div><h3>Base</h3><p data-testid="try-base">{labels.base}</p></div>
              <div><h3>Fine-tuned</h3><p data-testid="try-tuned">{labels.tuned ?? '(no run chosen)'}</p></div>
            </div>
          )}
        </>
      )}
      {busy && <p>Running on the GPU…</p>}
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}
