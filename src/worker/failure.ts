// What the studio says when a run fails: the error's own line, plus, for out-of-memory, a concrete
// smaller setting to try (halve the batch first; at batch 1, the sequence length; then the rank).
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
