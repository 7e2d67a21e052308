// Central finite differences in Float64: the independent oracle for every hand-written backward.
//
// For a scalar objective L(x) = Σ dOut ⊙ f(x) (dOut fixed and seeded), the analytic gradient the
// backward reference returns must equal (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h for every input element.
import { expectAllClose, type Tolerance } from './allclose';

export function numericGrad(loss: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const plus = loss(x);
    x[i] = keep - h;
    const minus = loss(x);
    x[i] = keep;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Float64 central differences agree with a correct analytic gradient to ~1e-8 on O(1) inputs. */
export const FD_TOL: Tolerance = { atol: 1e-6, rtol: 1e-5 };

export function expectGradMatches(
  analytic: ArrayLike<number>, loss: (x: Float64Array) => number, x: Float64Array, what: string,
  tol: Tolerance = FD_TOL,
): void {
  expectAllClose(analytic, numericGrad(loss, x), tol, `${what} vs finite differences`);
}
