// The Device panel, collapsed by default: the adapter, whether it is a CPU implementation, its limits,
// shader-f16, the measured matmul speed, the kernel self-check (GPU against the CPU reference), and the
// matmul variant this device chose per shape class with its GFLOP/s (a list, not a table: the kernel
// check's table stays the panel's only one).
import { useEffect } from 'react';
import { useAppStore } from './store';
import { useStudio } from './studioStore';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;

export function DevicePanel() {
  const selfCheck = useAppStore((s) => s.selfCheck);
  const start = useAppStore((s) => s.startSelfCheck);
  const device = useStudio((s) => s.device);
  const estimate = useStudio((s) => s.estimate);
  const setMatmulGflops = useStudio((s) => s.setMatmulGflops);
  useEffect(() => {
    if (selfCheck.status === 'idle') start();
  }, [selfCheck.status, start]);
  useEffect(() => {
    if (selfCheck.result) setMatmulGflops(selfCheck.result.gflops);
  }, [selfCheck.result, setMatmulGflops]);
  const r = selfCheck.result;
  const failed = r?.checks.filter((c) => !c.ok).length ?? 0;
  const headline = selfCheck.status === 'error' ? 'the engine could not start'
    : !r ? 'checking…'
    : `${device?.software ? 'CPU (no GPU found)' : 'GPU'} · ${r.gflops.toFixed(1)} GFLOP/s · kernel check ${failed ? `${failed} failed` : 'passed'}`;
  return (
    <details className="panel wide device" data-testid="device-panel" open={selfCheck.status === 'error' || failed > 0}>
      <summary><h2 id="device-heading">Device</h2> <span className="note" data-testid="device-summary">{headline}</span></summary>
      {selfCheck.status === 'error' && <p role="alert" className="error">The GPU engine could not start: {selfCheck.error}</p>}
      {r && (
        <>
          <dl>
            <dt>Adapter</dt><dd data-testid="adapter">{r.adapter}</dd>
            <dt>Kind</dt><dd data-testid="device-kind">{device ? (device.software ? `CPU implementation of WebGPU: ${device.evidence}` : 'GPU') : '…'}</dd>
            <dt>shader-f16</dt><dd>{r.hasF16 ? 'yes' : 'no'}</dd>
            <dt>Largest buffer</dt><dd>{mib(r.limits.maxBufferSize)}</dd>
            <dt>Largest storage binding</dt><dd>{mib(r.limits.maxStorageBufferBindingSize)}</dd>
            {estimate && (
              <><dt>Memory plan of the current settings</dt><dd data-testid="device-plan">
                {(estimate.bytes / 2 ** 20).toFixed(1)} MiB, largest buffer {(estimate.largestBuffer / 2 ** 20).toFixed(1)} MiB{estimate.fits ? '' : ' (does not fit)'}
              </dd></>
            )}
            <dt>Workgroup memory</dt><dd>{(r.limits.maxComputeWorkgroupStorageSize / 1024).toFixed(0)} KiB</dd>
            <dt>matmul 256³</dt><dd data-testid="gflops">{r.gflops.toFixed(2)} GFLOP/s</dd>
          </dl>
          <table>
            <thead><tr><th>Kernel check</th><th>Variant</th><th>max |GPU − CPU|</th><th /></tr></thead>
            <tbody>
              {r.checks.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td><td><code>{c.kernel}</code></td>
                  <td>{c.maxAbsDiff.toExponential(2)}</td><td>{c.ok ? '✓' : '✗'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {r.kernelChoices?.length > 0 && (
            <>
              <h3>Matmul variant per shape class (F32 and packed BF16 weights)</h3>
              <ul className="note" data-testid="kernel-choices">
                {r.kernelChoices.map((k) => (
                  <li key={k.shapeClass} data-variant={k.variant}>
                    {k.name} <span className="note">[{k.shapeClass}]</span>: <code>{k.variant}</code>, {k.gflops.toFixed(2)} GFLOP/s
                    {' '}({k.source === 'tuned' ? 'timed on this device' : k.source === 'stored' ? 'chosen earlier on this device' : 'shipped choice for this adapter'})
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </details>
  );
}
