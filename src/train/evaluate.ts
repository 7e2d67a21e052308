// Validation: mean loss over the validation split (GPT-2: weighted by the targets of each batch, so
// padding never counts; ViT: from the logits, in Float64, with accuracy).
import type { TrainableModel } from '../model/api';
import type { TaskData } from './data';

export interface EvalResult {
  loss: number;
  /** ViT only: fraction of validation images whose top-1 class is right. */
  accuracy?: number;
  count: number;
}

/** −log softmax(row)[target] in Float64 (max-shifted), as torch's cross_entropy for one row. */
export function crossEntropy(row: ArrayLike<number>, target: number): number {
  let max = -Infinity;
  for (let k = 0; k < row.length; k++) if (row[k] > max) max = row[k];
  let z = 0;
  for (let k = 0; k < row.length; k++) z += Math.exp(row[k] - max);
  return Math.log(z) + max - row[target];
}

/** Index of the largest logit (first on ties); a NaN row counts as wrong, it does not throw (eval goes on). */
export function topClass(row: ArrayLike<number>): number {
  let arg = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[arg]) arg = k;
  return arg;
}

type Evaluable<I> = TrainableModel<I> & { forwardLogits(input: I): Promise<Float32Array> };

/**
 * A language model's figure is token-weighted: each batch's GPU mean (evalLoss) times its target count, over
 * all targets, so batches with different counts combine into the mean over every target. `onBatch` hears
 * how many examples are done after each batch (progress).
 */
export async function evaluate<E, I>(
  model: Evaluable<I>, data: TaskData<E, I>, B: number, examples: E[] = data.val, onBatch?: (done: number, total: number) => void,
): Promise<EvalResult> {
  let lossSum = 0, count = 0, correct = 0;
  for (let i = 0; i < examples.length; i += B) {
    const chunk = examples.slice(i, i + B);
    const batch = data.collate(chunk, B);
    if (data.kind === 'lm') {
      const r = await model.evalLoss(batch.input, batch.labels);
      if (r.count > 0) { lossSum += r.loss * r.count; count += r.count; }
    } else {
      const logits = await model.forwardLogits(batch.input);
      const NL = logits.length / chunk.length;
      for (let b = 0; b < chunk.length; b++) {
        const row = logits.subarray(b * NL, (b + 1) * NL);
        const y = batch.labels[b];
        lossSum += crossEntropy(row, y);
        if (topClass(row) === y) correct++;
        count++;
      }
    }
    onBatch?.(Math.min(i + B, examples.length), examples.length);
  }
  if (count === 0) return { loss: NaN, count: 0 };
  return { loss: lossSum / count, count, ...(data.kind === 'image' ? { accuracy: correct / count } : {}) };
}
