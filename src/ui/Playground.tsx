import { useState } from 'react';
import { useAppStore } from './store';

/** Generate text with the built-in demo GPT-2 (trained on Debian's fortunes), in a worker. */
export function Playground() {
  const pg = useAppStore((s) => s.playground);
  const generate = useAppStore((s) => s.generate);
  const [prompt, setPrompt] = useState('The meaning of life is');
  const [temperature, setTemperature] = useState(0.8);
  const [topK, setTopK] = useState(40);
  const [maxNewTokens, setMaxNewTokens] = useState(40);
  const [seed, setSeed] = useState(1);

  return (
    <section aria-labelledby="playground-heading">
      <h2 id="playground-heading">Playground</h2>
      <p>The built-in demo model: a small GPT-2 trained from scratch on Debian&apos;s <em>fortunes</em>.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          generate({ prompt, maxNewTokens, temperature, topK, seed });
        }}
      >
        <label>Prompt <textarea data-testid="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={2} /></label>
        <div className="row">
          <label>Temperature <input type="number" min={0} max={2} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} /></label>
          <label>Top-k <input type="number" min={0} max={1000} value={topK} onChange={(e) => setTopK(Number(e.target.value))} /></label>
          <label>New tokens <input type="number" min={1} max={200} value={maxNewTokens} onChange={(e) => setMaxNewTokens(Number(e.target.value))} /></label>
          <label>Seed <input type="number" value={seed} onChange={(e) => setSeed(Number(e.target.value))} /></label>
          <button type="submit" data-testid="generate" disabled={pg.status === 'running'}>
            {pg.status === 'running' ? 'Generating…' : 'Generate'}
          </button>
        </div>
      </form>
      {pg.status === 'error' && <p role="alert" className="error">{pg.error}</p>}
      {pg.reply && (
        <>
          <pre className="generated" data-testid="generated"><strong>{pg.prompt}</strong>{pg.reply.text}</pre>
          <p className="meta">
            {pg.reply.promptTokens} prompt tokens, {pg.reply.newTokens} new ({pg.reply.stopReason}),
            {' '}{(pg.reply.ms / 1000).toFixed(1)} s
          </p>
        </>
      )}
    </section>
  );
}
