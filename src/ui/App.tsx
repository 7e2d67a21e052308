import { useEffect } from 'react';
import { Playground } from './Playground';
import { Studio } from './studio/Studio';
import { useAppStore } from './store';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

export function App() {
  const selfCheck = useAppStore((s) => s.selfCheck);
  const start = useAppStore((s) => s.startSelfCheck);
  useEffect(() => {
    if (selfCheck.status === 'idle') start();
  }, [selfCheck.status, start]);

  return (
    <main>
      <header>
        <h1>LoRASC Studio</h1>
        <p>
          Fine-tune GPT-2 language models and ViT image classifiers on your own data, on your own GPU, with
          LoRA, LoRA+, DoRA, COLA and LoRASC. Nothing leaves this machine.
        </p>
      </header>
      <Studio />
      <section aria-labelledby="engine-heading" className="panel wide">
        <h2 id="engine-heading">Engine check</h2>
        {selfCheck.status === 'running' && <p>Checking the WebGPU engine…</p>}
        {selfCheck.status === 'error' && (
          <p role="alert" className="error">The GPU engine could not start: {selfCheck.error}</p>
        )}
        {selfCheck.result && (
          <>
            <dl>
              <dt>Adapter</dt><dd data-testid="adapter">{selfCheck.result.adapter}</dd>
              <dt>shader-f16</dt><dd>{selfCheck.result.hasF16 ? 'yes' : 'no'}</dd>
              <dt>Largest buffer</dt><dd>{mib(selfCheck.result.limits.maxBufferSize)}</dd>
              <dt>Largest storage binding</dt><dd>{mib(selfCheck.result.limits.maxStorageBufferBindingSize)}</dd>
              <dt>matmul 256³</dt><dd data-testid="gflops">{selfCheck.result.gflops.toFixed(2)} GFLOP/s</dd>
            </dl>
            <table>
              <thead><tr><th>Kernel check</th><th>Variant</th><th>max |GPU − CPU|</th><th /></tr></thead>
              <tbody>
                {selfCheck.result.checks.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td><td><code>{c.kernel}</code></td>
                    <td>{c.maxAbsDiff.toExponential(2)}</td><td>{c.ok ? '✓' : '✗'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
      <Playground />
    </main>
  );
}
