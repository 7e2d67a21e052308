// softmax reference — row softmax over the last dim, the spec of softmax_forward/backward.wgsl.
// x, y, dy, dx: (rows, N) row-major.
import type { Arr } from './types';

export interface SoftmaxShape {
  rows: number;
  N: number;
}

/** y = exp(x − max) / Σ exp(x − max) per row; the max keeps every exp ≤ 1. */
export function softmaxForward(y: Arr, x: Arr, s: SoftmaxShape): void {
  const { rows, N } = s;
  for (let r = 0; r < rows; r++) {
    const o = r * N;
    let m = -Infinity;
    for (let n = 0; n < N; n++) m = Math.max(m, x[o + n]);
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const e = Math.exp(x[o + n] - m);
      y[o + n] = e;
      sum += e;
    }
    for (let n = 0; n < N; n++) y[o + n] /= sum;
  }
}

/** dx = y ⊙ (dy − ⟨dy, y⟩) per row (the softmax Jacobian-vector product). Overwrites dx. */
export function softmaxBackward(dx: Arr, dy: Arr, y: Arr, s: SoftmaxShape): void {
  const { rows, N } = s;
  for (let r = 0; r < rows; r++) {
    const o = r * N;
    let dot = 0;
    for (let n = 0; n < N; n++) dot += dy[o + n] * y[o + n];
    for (let n = 0; n < N; n++) dx[o + n] = y[o + n] * (dy[o + n] - dot);
  }
}
