// The runs: progress with ETA, pause / resume / stop, resume from the last checkpoint (after a reload,
// a device loss or a stop), the compare table (final and best losses, effective rank), exports with the
// parity figure (merged: to a picked folder or a streamed zip, F32/BF16/F16), and the errors of a run —
// a failed run (device lost, worker died) keeps its curves and offers its last checkpoint.
import { useState } from 'react';
import type { ExportDtype } from '../../io/export/precision';
import { type RunView, useStudio } from '../studioStore';
import { colorOf } from './Charts';
import { downloadBytes } from './download';

const f4 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(4));

const mmss = (s: number) => { const t = Math.max(0, Math.round(s)); return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`; };

/** Elapsed and remaining time: the remaining from the run's own pace so far (steps done vs steps left). */
function times(r: RunView): { elapsed: string; remaining: string } {
  if (!r.startedAt) return { elapsed: '—', remaining: '—' };
  const elapsed = ((r.endedAt ?? Date.now()) - r.startedAt) / 1000;
  const last = r.steps[r.steps.length - 1];
  const active = r.state === 'running' || r.state === 'paused';
  const remaining = !active ? (r.state === 'done' ? '0:00' : '—') : last && r.totalSteps ? mmss((elapsed / last.step) * (r.totalSteps - last.step)) : '…';
  return { elapsed: mmss(elapsed), remaining };
}

function Progress({ r }: { r: RunView }) {
  const control = useStudio((s) => s.control);
  const resumeRun = useStudio((s) => s.resumeRun);
  const step = r.steps[r.steps.length - 1]?.step ?? 0;
  const active = r.state === 'running' || r.state === 'paused' || r.state === 'queued';
  const resumable = r.checkpointStep !== undefined && (r.state === 'interrupted' || r.state === 'stopped' || r.state === 'error');
  return (
    <div className="progress-row">
      <progress max={r.totalSteps ?? 1} value={step} aria-label={`${r.label} progress`} />
      <span data-testid={`state-${r.id}`}>{r.state}{r.totalSteps ? ` · step ${step}/${r.totalSteps}` : ''}</span>
      {r.summary?.earlyStoppedAt != null && <span className="note" data-testid={`early-${r.id}`}>stopped early at step {r.summary.earlyStoppedAt}</span>}
      {active && !r.archived && (
        <span className="row">
          {r.state === 'running' && <button type="button" data-testid={`pause-${r.id}`} onClick={() => control(r.id, 'pause')}>Pause</button>}
          {r.state === 'paused' && <button type="button" data-testid={`resume-${r.id}`} onClick={() => control(r.id, 'resume')}>Resume</button>}
          <button type="button" data-testid={`stop-${r.id}`} onClick={() => control(r.id, 'stop')}>Stop</button>
        </span>
      )}
      {resumable && (
        <button type="button" data-testid={`resume-checkpoint-${r.id}`} onClick={() => void resumeRun(r.id)}>Resume from step {r.checkpointStep}</button>
      )}
    </div>
  );
}

/** The File System Access API's folder picker, where the browser has it (Chrome, Edge; not Firefox, Safari). */
type PickDirectory = (o?: { mode?: 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;
const pickDirectory = (): PickDirectory | undefined => (globalThis as { showDirectoryPicker?: PickDirectory }).showDirectoryPicker;

function Exports({ r }: { r: RunView }) {
  const exportRun = useStudio((s) => s.exportRun);
  const last = useStudio((s) => (s.lastExport?.runId === r.id ? s.lastExport : undefined));
  const busy = useStudio((s) => s.exporting[r.id]);
  const [dtype, setDtype] = useState<ExportDtype>('F32');
  if (r.archived || (r.state !== 'done' && r.state !== 'stopped') || !r.summary) return null;
  const save = async (what: 'merged' | 'adapter' | 'log') => {
    const reply = await exportRun(r.id, what, what === 'merged' ? { dtype, target: { kind: 'zip' } } : {});
    const body = reply?.file ?? reply?.bytes;
    if (reply && body) downloadBytes(body, reply.fileName, what === 'log' ? 'application/json' : 'application/zip');
  };
  const saveToFolder = async () => {
    const pick = pickDirectory();
    if (!pick) return;
    let handle: FileSystemDirectoryHandle;
    try { handle = await pick({ mode: 'readwrite', id: 'lorasc-export' }); } catch { return; } // the user closed the picker
    await exportRun(r.id, 'merged', { dtype, target: { kind: 'directory', handle } });
  };
  const from = r.summary.keptStep !== null ? `weights of step ${r.summary.keptStep} (best validation loss)` : `weights of the last step (${r.summary.steps})`;
  const survived = last?.rounding;
  return (
    <div className="row">
      <span className="note" data-testid={`weights-${r.id}`}>Exports hold the {from}.</span>
      <label>
        Merged precision{' '}
        <select data-testid={`export-dtype-${r.id}`} value={dtype} onChange={(e) => setDtype(e.target.value as ExportDtype)}>
          <option value="F32">F32 (exact merge)</option>
          <option value="BF16">BF16 (half the size; the F32 merge rounded once)</option>
          <option value="F16">F16 (half the size; the F32 merge rounded once)</option>
        </select>
      </label>
      {pickDirectory() && <button type="button" data-testid={`export-merged-folder-${r.id}`} disabled={!!busy} onClick={() => void saveToFolder()}>Merged model to a folder…</button>}
      <button type="button" data-testid={`export-merged-${r.id}`} disabled={!!busy} onClick={() => save('merged')}>Merged model (.zip)</button>
      {r.summary.adapterRank !== null && <button type="button" data-testid={`export-adapter-${r.id}`} onClick={() => save('adapter')}>PEFT adapter r={r.summary.adapterRank} (.zip)</button>}
      <button type="button" onClick={() => save('log')}>Run log (trainer_state.json)</button>
      {busy && (
        <span data-testid={`exporting-${r.id}`} className="row">
          {busy.total ? <progress aria-label="export progress" max={busy.total} value={busy.done} /> : <progress aria-label="export progress" />}{' '}
          exporting the {busy.what === 'log' ? 'run log' : busy.what === 'merged' ? `merged model: merging in F32, checking parity, writing tensor by tensor${busy.total ? ` (${busy.done}/${busy.total}: ${busy.tensor})` : ''}` : 'adapter: checking parity, zipping'}…
        </span>
      )}
      {last?.parity && (
        <span data-testid={`parity-${r.id}`} className={last.parity.maxAbs <= 1e-4 ? 'ok' : 'error'}>
          parity max |merged − base+adapter| = {last.parity.maxAbs.toExponential(2)} (rel {last.parity.maxRel.toExponential(2)})
        </span>
      )}
      {last?.mergeCheck && (
        <span data-testid={`merge-check-${r.id}`} className="note">
          merge check: {last.mergeCheck.rows} sampled rows of {last.mergeCheck.tensors} tensors within {last.mergeCheck.maxUlps.toFixed(1)} F32 ulps of the exact merge
        </span>
      )}
      {survived && (
        <span data-testid={`rounding-${r.id}`} className={survived.survivedFraction < 0.5 ? 'warn' : 'note'}>
          {survived.dtype}: {(100 * survived.survivedFraction).toFixed(1)} % of the {survived.changed} changed weights kept a change after rounding; delta error {(100 * survived.deltaRelError).toFixed(1)} %
        </span>
      )}
      {last?.written && <span className="note" data-testid={`export-written-${r.id}`}>written to the folder {last.fileName}/: {last.written.join(', ')}</span>}
      {last?.note && <span className="note">{last.note}</span>}
    </div>
  );
}

export function RunsPanel() {
  const runs = useStudio((s) => s.runs);
  const order = useStudio((s) => s.order);
  const deviceLost = useStudio((s) => s.deviceLost);
  const resetDevice = useStudio((s) => s.resetDevice);
  const clearHistory = useStudio((s) => s.clearHistory);
  const list = order.map((id) => runs[id]).filter(Boolean);
  return (
    <section aria-labelledby="runs-heading" className="panel wide">
      <h2 id="runs-heading">Runs</h2>
      {deviceLost && (
        <div role="alert" className="error">
          The GPU device was lost: {deviceLost}. Every curve so far is kept.{' '}
          <button type="button" data-testid="reset-device" onClick={() => void resetDevice()}>Get a new device</button>
        </div>
      )}
      {list.length === 0 ? <p className="empty">No runs yet.</p> : (
        <table className="runs" data-testid="runs-table">
          <thead><tr><th /><th>Run</th><th>Progress</th><th>Elapsed</th><th>Remaining</th><th>Final train</th><th>Final val</th><th>Best val</th><th>Val acc.</th><th>Eff. rank</th></tr></thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id} data-testid={`run-${r.id}`}>
                <td><span className="swatch" style={{ background: colorOf(order, r.id) }} /></td>
                <td>
                  {r.label}{r.archived ? ' (earlier visit)' : ''}
                  {r.state === 'queued' && r.message && <div className="note" data-testid={`queued-${r.id}`}>{r.message}</div>}
                  {r.state === 'error' && <div role="alert" className="error">{r.message}</div>}
                  {r.state === 'interrupted' && <div className="warn" data-testid={`interrupted-${r.id}`}>{r.message}</div>}
                  {r.warnings.slice(-2).map((w, i) => <div key={i} className="warn">{w}</div>)}
                  <Exports r={r} />
                </td>
                <td><Progress r={r} /></td>
                <td data-testid={`elapsed-${r.id}`}>{times(r).elapsed}</td>
                <td data-testid={`remaining-${r.id}`}>{times(r).remaining}</td>
                <td>{f4(r.summary?.finalTrainLoss ?? r.steps[r.steps.length - 1]?.loss)}</td>
                <td>{f4(r.summary?.finalValLoss ?? r.evals[r.evals.length - 1]?.valLoss)}</td>
                <td>{f4(r.summary?.bestValLoss)}</td>
                <td>{r.summary?.finalValAccuracy != null ? `${(100 * r.summary.finalValAccuracy).toFixed(1)} %` : '—'}</td>
                <td>{r.summary?.effectiveRank != null ? r.summary.effectiveRank.toFixed(1) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.some((r) => r.archived) && <button type="button" onClick={clearHistory}>Forget earlier runs</button>}
    </section>
  );
}
