import { describe, it } from 'vitest';
import {
  type LayernormShape, layernormBackward, layernormBackwardParams, layernormForward,
} from '../../src/ref/layernorm';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

// L = Σ dy ⊙ layernorm(x, w, b); the backward uses the mean/rstd cached by the forward, while every
// finite-difference evaluation recomputes them, so a wrong cache or a dropped term shows up here.
describe('layernorm reference backward vs finite differences (Float64)', () => {
  const cases: LayernormShape[] = [
    { B: 1, T: 1, C: 2, eps: 1e-5 },
    { B: 2, T: 3, C: 7, eps: 1e-5 }, // GPT-2 eps
    { B: 1, T: 3, C: 5, eps: 1e-12 }, // ViT eps
  ];
  for (const s of cases) {
    it(`B=${s.B} T=${s.T} C=${s.C} eps=${s.eps}`, () => {
      const N = s.B * s.T;
      const x = uniformF64(N * s.C, 1, -2, 3); // offset mean, so the centring matters
      const w = uniformF64(s.C, 2, 0.5, 1.5);
      const b = uniformF64(s.C, 3);
      const dy = uniformF64(N * s.C, 4);
      const y = new Float64Array(N * s.C), mean = new Float64Array(N), rstd = new Float64Array(N);
      layernormForward(y, mean, rstd, x, w, b, s);
      const dx = new Float64Array(N * s.C), dw = new Float64Array(s.C), db = new Float64Array(s.C);
      layernormBackward(dx, dy, x, w, mean, rstd, s);
      layernormBackwardParams(dw, db, dy, x, mean, rstd, s);
      const loss = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => {
        const out = new Float64Array(N * s.C);
        layernormForward(out, new Float64Array(N), new Float64Array(N), xx, ww, bb, s);
        return dot(out, dy);
      };
      expectGradMatches(dx, (v) => loss(v, w, b), x, 'dx');
      expectGradMatches(dw, (v) => loss(x, v, b), w, 'dw');
      expectGradMatches(db, (v) => loss(x, w, v), b, 'db');
    });
  }

  it('accumulates: dx += … with accumulateDx, dw/db always +=', () => {
    const s: LayernormShape = { B: 1, T: 2, C: 4, eps: 1e-5 };
    const x = uniformF64(8, 5), w = uniformF64(4, 6), b = uniformF64(4, 7), dy = uniformF64(8, 8);
    const y = new Float64Array(8), mean = new Float64Array(2), rstd = new Float64Array(2);
    layernormForward(y, mean, rstd, x, w, b, s);
    const dx = new Float64Array(8), dw = new Float64Array(4), db = new Float64Array(4);
    layernormBackward(dx, dy, x, w, mean, rstd, s);
    layernormBackwardParams(dw, db, dy, x, mean, rstd, s);
    const dx2 = uniformF64(8, 9), dw2 = uniformF64(4, 10), db2 = uniformF64(4, 11);
    const want = [dx2.map((v, i) => v + dx[i]), dw2.map((v, i) => v + dw[i]), db2.map((v, i) => v + db[i])];
    layernormBackward(dx2, dy, x, w, mean, rstd, { ...s, accumulateDx: true });
    layernormBackwardParams(dw2, db2, dy, x, mean, rstd, s);
    const exact = { atol: 0, rtol: 0 };
    expectAllClose(dx2, want[0], exact, 'dx +=');
    expectAllClose(dw2, want[1], exact, 'dw +=');
    expectAllClose(db2, want[2], exact, 'db +=');
  });
});
