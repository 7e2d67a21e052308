// gelu references — the spec of gelu_forward.wgsl and gelu_backward.wgsl.
//   tanh form (HF `gelu_new`, GPT-2; torch GELU(approximate='tanh')):
//     gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   exact form (HF `gelu`, ViT; torch GELU()):  gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2))
// Math has no erf, so erf64/erfc64 below compute it to Float64 accuracy; erfcChebyshev is the
// float32-accurate formula the shaders use (checked against erf64 in test/ref/gelu.test.ts).
import type { Arr } from './types';

export type GeluApproximate = 'tanh' | 'none';

export interface GeluShape {
  n: number;
  /** 'tanh' (GPT-2) or 'none' (exact erf form, ViT): torch's `approximate` argument. */
  approximate: GeluApproximate;
  /** Backward only: dx += dy·gelu'(x) instead of dx = dy·gelu'(x). */
  accumulate?: boolean;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erf to ~1e-16: the all-positive series (A&S 7.1.6) below 2.5, 1 − erfc above. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 2.5) return Math.sign(x) * (1 - erfc64(ax));
  // erf x = 2/√π · e^{−x²} · Σ_n (2x²)^n · x / (1·3·…·(2n+1)): no cancellation.
  const x2 = 2 * ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum;
}

/** erfc to ~1e-15 relative, including the far tail (erfc 7 ≈ 4e-23) where 1 − erf loses everything. */
export function erfc64(x: number): number {
  if (x < 2.5) return 1 - erf64(x);
  // Continued fraction (A&S 7.1.14): erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
  // evaluated by the modified Lentz method.
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 10000; k++) {
    const a = k / 2;
    d = 1 / (x + a * d);
    c = x + a / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/**
 * The shaders' erfc: Numerical Recipes in C (2nd ed.) §6.2 `erfcc`, a Chebyshev fit with fractional
 * error < 1.2e-7 everywhere (so erf = 1 − erfc has absolute error < 1.2e-7). Chosen over A&S 7.1.26
 * because its error is relative, which keeps Φ(x) = erfc(−x/√2)/2 accurate in the left tail.
 */
export function erfcChebyshev(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const ans = t * Math.exp(-z * z + p);
  return x >= 0 ? ans : 2 - ans;
}

function geluScalar(x: number, approximate: GeluApproximate): number {
  if (approximate === 'tanh') return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
  return 0.5 * x * erfc64(-x * Math.SQRT1_2);
}

/** d gelu / dx. Exact: Φ(x) + x·φ(x). Tanh: ½(1 + t) + ½x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²). */
function geluGrad(x: number, approximate: GeluApproximate): number {
  if (approximate === 'tanh') {
    const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
  }
  return 0.5 * erfc64(-x * Math.SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** out = gelu(x) (=). x is kept by the caller as the cache for backward. */
export function geluForward(out: Arr, x: Arr, s: GeluShape): void {
  for (let i = 0; i < s.n; i++) out[i] = geluScalar(x[i], s.approximate);
}

/** dx = dy·gelu'(x), or dx += … when s.accumulate. */
export function geluBackward(dx: Arr, x: Arr, dy: Arr, s: GeluShape): void {
  for (let i = 0; i < s.n; i++) {
    const g = dy[i] * geluGrad(x[i], s.approximate);
    dx[i] = s.accumulate ? dx[i] + g : g;
  }
}
