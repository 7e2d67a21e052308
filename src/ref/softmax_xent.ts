// softmax_xent reference — fused softmax + cross-entropy (the LM / classifier loss), the spec of
// shaders/softmax_xent_{forward,backward,mean}.wgsl. logits, probs, dlogits: (BT, V) row-major;
// targets (BT) integer class ids, where ignoreIndex (−100, torch's default) marks padding.
import type { Arr } from './types';

/** torch.nn.CrossEntropyLoss's default ignore_index. */
export const IGNORE_INDEX = -100;

export interface SoftmaxXentShape {
  BT: number;
  V: number;
  /** Default IGNORE_INDEX. */
  ignoreIndex?: number;
}

/** Rows that count towards the mean: target ≠ ignoreIndex. */
export function countValid(targets: ArrayLike<number>, ignoreIndex = IGNORE_INDEX): number {
  let n = 0;
  for (let r = 0; r < targets.length; r++) if (targets[r] !== ignoreIndex) n++;
  return n;
}

/**
 * The backward scale for the mean over non-ignored rows: dloss / count (0 when all rows are
 * ignored, matching softmax_xent_mean's loss of 0).
 */
export function meanLossScale(targets: ArrayLike<number>, ignoreIndex = IGNORE_INDEX, dloss = 1): number {
  const n = countValid(targets, ignoreIndex);
  return n === 0 ? 0 : dloss / n;
}

/**
 * probs = softmax(logits) per row; losses[r] = logsumexp(logits[r]) − logits[r, target[r]], 0 for
 * ignored rows, NaN for a target outside [0, V). Caches probs for the backward.
 */
export function softmaxXentForward(losses: Arr, probs: Arr, logits: Arr, targets: ArrayLike<number>, s: SoftmaxXentShape): void {
  const { BT, V } = s;
  const ignore = s.ignoreIndex ?? IGNORE_INDEX;
  for (let r = 0; r < BT; r++) {
    const o = r * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[o + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[o + v] - m);
      probs[o + v] = e;
      sum += e;
    }
    for (let v = 0; v < V; v++) probs[o + v] /= sum;
    const t = targets[r];
    if (t === ignore) losses[r] = 0;
    else if (!(t >= 0 && t < V)) losses[r] = NaN;
    else losses[r] = m + Math.log(sum) - logits[o + t];
  }
}

/** loss[0] = mean of losses over non-ignored rows (0 if none); loss[1] = that row count. */
export function softmaxXentMean(loss: Arr, losses: Arr, targets: ArrayLike<number>, s: SoftmaxXentShape): void {
  const ignore = s.ignoreIndex ?? IGNORE_INDEX;
  let sum = 0;
  let n = 0;
  for (let r = 0; r < s.BT; r++) {
    if (targets[r] === ignore) continue;
    sum += losses[r];
    n++;
  }
  loss[0] = n === 0 ? 0 : sum / n;
  loss[1] = n;
}

/**
 * dlogits[r] = (probs[r] − onehot(target[r])) · scale, with scale = dloss / count for the mean
 * (meanLossScale). Ignored rows get 0, invalid targets NaN. Overwrites dlogits.
 */
export function softmaxXentBackward(
  dlogits: Arr, probs: Arr, targets: ArrayLike<number>, s: SoftmaxXentShape, scale: number,
): void {
  const { BT, V } = s;
  const ignore = s.ignoreIndex ?? IGNORE_INDEX;
  for (let r = 0; r < BT; r++) {
    const o = r * V;
    const t = targets[r];
    for (let v = 0; v < V; v++) {
      if (t === ignore) dlogits[o + v] = 0;
      else if (!(t >= 0 && t < V)) dlogits[o + v] = NaN;
      else dlogits[o + v] = (probs[o + v] - (v === t ? 1 : 0)) * scale;
    }
  }
}
