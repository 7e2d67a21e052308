// Try the result — the one playground of the page: the base model and a fine-tuned run side by side,
// text generation for a GPT-2 (sampling settings, reproducible for a seed), top-3 labels of a dropped
// image for a ViT. It says which step's weights the fine-tuned side holds (keep-best: the best
// evaluation's). Output is rendered as text, never as HTML. A model with a chat template gets a chat mode:
// a message box and each side's own history, rendered by the worker through the template with
// add_generation_prompt and stopped at any EOS / end-of-turn id; the replies come without special tokens.
import { useMemo, useState } from 'react';
import type { ChatTurn } from '../../worker/protocol';
import { useStudio } from '../studioStore';

export function TryPanel() {
  const kind = useStudio((s) => s.model.value?.kind);
  const chatTemplate = useStudio((s) => s.model.value?.chatTemplate);
  const client = useStudio((s) => s.client);
  const allRuns = useStudio((s) => s.runs);
  const order = useStudio((s) => s.order);
  const runs = useMemo(() => order.map((id) => allRuns[id]).filter((r) => r && !r.archived && r.summary), [allRuns, order]);
  const [runId, setRunId] = useState('');
  const [prompt, setPrompt] = useState('A fool and his money');
  const [out, setOut] = useState<{ base: string; tuned: string | null } | null>(null);
  const [labels, setLabels] = useState<{ base: string; tuned: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [temperature, setTemperature] = useState(0.8);
  const [topK, setTopK] = useState(40);
  const [maxNewTokens, setMaxNewTokens] = useState(40);
  const [seed, setSeed] = useState(1);
  const [error, setError] = useState('');
  const [chatMode, setChatMode] = useState(true);
  const [message, setMessage] = useState('');
  const [history, setHistory] = useState<{ base: ChatTurn[]; tuned: ChatTurn[] }>({ base: [], tuned: [] });
  if (!kind) return null;
  const chosen = runs.find((r) => r.id === runId) ?? runs[runs.length - 1];
  const run = async (f: () => Promise<void>) => {
    setBusy(true); setError('');
    try { await f(); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } finally { setBusy(false); }
  };
  const weightsNote = !chosen?.summary ? '' : chosen.summary.keptStep !== null
    ? `weights of step ${chosen.summary.keptStep} (best validation loss)` : `weights of the last step (${chosen.summary.steps})`;
  const fmt = (xs: { label: string; prob: number }[]) => xs.map((x) => `${x.label} ${(100 * x.prob).toFixed(1)} %`).join(', ');
  return (
    <section aria-labelledby="try-heading" className="panel wide">
      <h2 id="try-heading">Try it: base vs fine-tuned</h2>
      <p className="row">
        <label>Fine-tuned run <select value={chosen?.id ?? ''} onChange={(e) => setRunId(e.target.value)} data-testid="try-run">
          <option value="">(none: base only)</option>
          {runs.map((r) => <option key={r.id} value={r.id}>{r.label}</option>)}
        </select></label>
        {weightsNote && <span className="note" data-testid="try-weights">{weightsNote}</span>}
      </p>
      {kind !== 'vit' && chatTemplate && (
        <p className="row">
          <label><input type="checkbox" checked={chatMode} data-testid="try-chat-mode" onChange={(e) => setChatMode(e.target.checked)} /> Chat through the model's template ({chatTemplate})</label>
        </p>
      )}
      {kind !== 'vit' && chatTemplate && chatMode ? (
        <>
          <div className="side-by-side chat-history">
            {(['base', 'tuned'] as const).map((side) => (
              <div key={side} data-testid={`try-chat-${side}`}>
                <h3>{side === 'base' ? 'Base' : 'Fine-tuned'}</h3>
                {side === 'tuned' && !chosen ? <p>(no run chosen)</p> : history[side].map((t, i) => (
                  <p key={i} className={`turn ${t.role}`} data-role={t.role}>{t.role === 'user' ? 'You: ' : ''}{t.content || '(empty reply: the model ended its turn at once)'}</p>
                ))}
              </div>
            ))}
          </div>
          <div className="row">
            <input className="prompt" value={message} onChange={(e) => setMessage(e.target.value)} data-testid="try-message" aria-label="Message" placeholder="Message" />
            <button type="button" disabled={busy || message.trim() === ''} data-testid="try-send" onClick={() => run(async () => {
              const turn: ChatTurn = { role: 'user', content: message };
              const base = [...history.base, turn], tuned = [...history.tuned, turn];
              const r = await client.request('generate', { prompt: '', chat: base, tunedChat: tuned, runId: chosen?.id ?? null, maxNewTokens, temperature, topK, seed });
              setHistory({ base: [...base, { role: 'assistant', content: r.base }], tuned: r.tuned === null ? tuned : [...tuned, { role: 'assistant', content: r.tuned }] });
              setMessage('');
            })}>Send</button>
            <button type="button" disabled={busy} data-testid="try-chat-clear" onClick={() => setHistory({ base: [], tuned: [] })}>New conversation</button>
          </div>
          <div className="row">
            <label>Temperature <input type="number" min={0} max={2} step={0.1} value={temperature} data-testid="try-temperature" onChange={(e) => setTemperature(Number(e.target.value))} /></label>
            <label>Top-k <input type="number" min={0} max={1000} value={topK} onChange={(e) => setTopK(Number(e.target.value))} /></label>
            <label>New tokens <input type="number" min={1} max={200} value={maxNewTokens} onChange={(e) => setMaxNewTokens(Number(e.target.value))} /></label>
            <label>Seed <input type="number" value={seed} data-testid="try-seed" onChange={(e) => setSeed(Number(e.target.value))} /></label>
          </div>
        </>
      ) : kind !== 'vit' ? (
        <>
          <div className="row">
            <input className="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="try-prompt" aria-label="Prompt" />
            <button type="button" disabled={busy} data-testid="try-generate" onClick={() => run(async () => {
              setOut(null);
              setOut(await client.request('generate', { prompt, runId: chosen?.id ?? null, maxNewTokens, temperature, topK, seed }));
            })}>Generate</button>
          </div>
          <div className="row">
            <label>Temperature <input type="number" min={0} max={2} step={0.1} value={temperature} data-testid="try-temperature" onChange={(e) => setTemperature(Number(e.target.value))} /></label>
            <label>Top-k <input type="number" min={0} max={1000} value={topK} onChange={(e) => setTopK(Number(e.target.value))} /></label>
            <label>New tokens <input type="number" min={1} max={200} value={maxNewTokens} onChange={(e) => setMaxNewTokens(Number(e.target.value))} /></label>
            <label>Seed <input type="number" value={seed} data-testid="try-seed" onChange={(e) => setSeed(Number(e.target.value))} /></label>
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
      {busy && <p className="row"><progress aria-label="playground progress" /> Running base and fine-tuned models on this device…</p>}
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}
