// elementwise references — the spec of elementwise_add.wgsl (out = a + b, or out += b in place),
// elementwise_scale.wgsl (x ← alpha·x, in place, BLAS sscal) and elementwise_axpy.wgsl
// (y ← y + alpha·x, BLAS saxpy). All tensors are flat arrays of n elements.
import type { Arr } from './types';

export interface ElementwiseShape {
  n: number;
  /** scale: x ← alpha·x; axpy: y ← y + alpha·x. Unused by add. */
  alpha?: number;
}

/** out = a + b (=). `out` may be `a` itself: each element is read before it is written. */
export function elementwiseAdd(out: Arr, a: Arr, b: Arr, s: ElementwiseShape): void {
  for (let i = 0; i < s.n; i++) out[i] = a[i] + b[i];
}

/** x ← alpha·x, in place. */
export function elementwiseScale(x: Arr, s: ElementwiseShape): void {
  const alpha = s.alpha ?? 1;
  for (let i = 0; i < s.n; i++) x[i] = alpha * x[i];
}

/** y ← y + alpha·x, in place on y. */
export function elementwiseAxpy(y: Arr, x: Arr, s: ElementwiseShape): void {
  const alpha = s.alpha ?? 1;
  for (let i = 0; i < s.n; i++) y[i] += alpha * x[i];
}

/** Gradients of L = Σ dOut ⊙ (a + b): dA = dB = dOut (=). */
export function elementwiseAddBackward(dA: Arr, dB: Arr, dOut: Arr, s: ElementwiseShape): void {
  for (let i = 0; i < s.n; i++) {
    dA[i] = dOut[i];
    dB[i] = dOut[i];
  }
}

/**
 * Gradients of L = Σ dOut ⊙ (alpha·x), where x is the input before the in-place scale:
 * dx = alpha·dOut (=); dAlpha[0] = Σ x·dOut (=) when dAlpha is given.
 */
export function elementwiseScaleBackward(dx: Arr, dAlpha: Arr | null, dOut: Arr, x: Arr, s: ElementwiseShape): void {
  const alpha = s.alpha ?? 1;
  let g = 0;
  for (let i = 0; i < s.n; i++) {
    dx[i] = alpha * dOut[i];
    g += x[i] * dOut[i];
  }
  if (dAlpha) dAlpha[0] = g;
}

/**
 * Gradients of L = Σ dOut ⊙ (y + alpha·x): dy = dOut (identity: the caller keeps dOut as dy),
 * dx = alpha·dOut (=); dAlpha[0] = Σ x·dOut (=) when dAlpha is given.
 */
export function elementwiseAxpyBackward(dx: Arr, dAlpha: Arr | null, dOut: Arr, x: Arr, s: ElementwiseShape): void {
  elementwiseScaleBackward(dx, dAlpha, dOut, x, s);
}
