import { describe, expect, it } from 'vitest';
import { type RmsnormShape, rmsnormBackward, rmsnormBackwardParams, rmsnormForward } from '../../src/ref/rmsnorm';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

// L = Σ dy ⊙ rmsnorm(x, w); the backward uses the rstd cached by the forward, while every
// finite-difference evaluation recomputes it, so a wrong cache or a dropped term shows up here.
describe('rmsnorm reference backward vs finite differences (Float64)', () => {
  const cases: RmsnormShape[] = [
    { rows: 1, C: 1, eps: 1e-6 },
    { rows: 6, C: 7, eps: 1e-5 }, // Llama-2 eps, a hidden-state norm
    { rows: 2 * 3 * 4, C: 8, eps: 1e-6 }, // Qwen3 per-head: B=2, T=3, NH=4, HS=8
  ];
  for (const s of cases) {
    it(`rows=${s.rows} C=${s.C} eps=${s.eps}`, () => {
      const n = s.rows * s.C;
      const x = uniformF64(n, 1, -2, 3), w = uniformF64(s.C, 2, 0.5, 1.5), dy = uniformF64(n, 4);
      const y = new Float64Array(n), rstd = new Float64Array(s.rows);
      rmsnormForward(y, rstd, x, w, s);
      const dx = new Float64Array(n), dw = new Float64Array(s.C);
      rmsnormBackward(dx, dy, x, w, rstd, s);
      rmsnormBackwardParams(dw, dy, x, rstd, s);
      const loss = (xx: Float64Array, ww: Float64Array) => {
        const out = new Float64Array(n);
        rmsnormForward(out, new Float64Array(s.rows), xx, ww, s);
        return dot(out, dy);
      };
      expectGradMatches(dx, (v) => loss(v, w), x, 'dx');
      expectGradMatches(dw, (v) => loss(x, v), w, 'dw');
    });
  }

  it('forward: y = x / √(mean(x²) + eps) · w, by hand on one row', () => {
    const x = Float64Array.from([3, -4]), w = Float64Array.from([2, 0.5]);
    const y = new Float64Array(2), rstd = new Float64Array(1);
    rmsnormForward(y, rstd, x, w, { rows: 1, C: 2, eps: 0.5 }); // mean(x²) = 12.5, + eps = 13
    expect(rstd[0]).toBeCloseTo(1 / Math.sqrt(13), 15);
    expectAllClose(y, [6 / Math.sqrt(13), -2 / Math.sqrt(13)], { atol: 1e-15, rtol: 0 }, 'y');
  });

  it('accumulates: dx += … with accumulateDx, dw always +=', () => {
    const s: RmsnormShape = { rows: 2, C: 4, eps: 1e-6 };
    const x = uniformF64(8, 5), w = uniformF64(4, 6), dy = uniformF64(8, 8);
    const y = new Float64Array(8), rstd = new Float64Array(2);
    rmsnormForward(y, rstd, x, w, s);
    const dx = new Float64Array(8), dw = new Float64Array(4);
    rmsnormBackward(dx, dy, x, w, rstd, s);
    rmsnormBackwardParams(dw, dy, x, rstd, s);
    const dx2 = uniformF64(8, 9), dw2 = uniformF64(4, 10);
    const want = [dx2.map((v, i) => v + dx[i]), dw2.map((v, i) => v + dw[i])];
    rmsnormBackward(dx2, dy, x, w, rstd, { ...s, accumulateDx: true });
    rmsnormBackwardParams(dw2, dy, x, rstd, s);
    expectAllClose(dx2, want[0], { atol: 0, rtol: 0 }, 'dx +=');
    expectAllClose(dw2, want[1], { atol: 0, rtol: 0 }, 'dw +=');
  });
});
