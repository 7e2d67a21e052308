// What the studio says when a run fails: the error's own line, plus, for out-of-memory, a concrete
// smaller setting to try (halve the batch first; at batch 1, the sequence length; then the rank); and for a
// device lost mid-run (issue 13 item 7), what happened, the likely cause and where the run can resume.
import { GpuOutOfMemoryError } from '../gpu/errors';
import type { TrainingConfig } from '../train/config';

export function runFailureMessage(e: unknown, c: Pick<TrainingConfig, 'batchSize' | 'seqLen' | 'r'>): string {
  const text = e instanceof Error ? e.message : String(e);
  if (!(e instanceof GpuOutOfMemoryError)) return text;
  const half = (n: number) => Math.max(1, Math.floor(n / 2));
  const next = c.batchSize > 1 ? `a batch size of ${half(c.batchSize)}`
    : c.seqLen > 1 ? `a sequence length of ${half(c.seqLen)}` : `a rank of ${half(c.r)}`;
  return `${text}. Try ${next}.`;
}

/** A run failed because its GPU device was lost: one line, the likely cause, the checkpoint kept (if any). */
export function deviceLossMessage(loss: { reason: string; message: string } | undefined, checkpointStep: number | undefined): string {
  const why = loss?.reason === 'destroyed'
    ? 'the device was destroyed (a device reset)'
    : 'the GPU process crashed or the driver reset it, most often for want of GPU memory (try a smaller batch or sequence length)';
  const detail = loss?.message ? ` "${loss.message}"` : '';
  const resume = checkpointStep !== undefined ? `; get a new device, then resume from the checkpoint of step ${checkpointStep}` : '; no checkpoint was written yet';
  return `failed: the GPU device was lost${detail}: ${why}; the curves so far are kept${resume}`;
}
