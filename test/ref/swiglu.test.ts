import { describe, expect, it } from 'vitest';
import { swigluBackward, swigluForward } from '../../src/ref/swiglu';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

describe('swiglu reference', () => {
  it('forward by hand: silu(0) = 0, silu(1) = 1/(1 + e⁻¹), silu(−2)·3', () => {
    const h = new Float64Array(3);
    swigluForward(h, Float64Array.from([0, 1, -2]), Float64Array.from([5, 1, 3]), { n: 3 });
    expectAllClose(h, [0, 1 / (1 + Math.exp(-1)), (-2 / (1 + Math.exp(2))) * 3], { atol: 1e-16, rtol: 0 }, 'h');
  });

  it('backward vs finite differences (Float64), g across ±6', () => {
    const n = 23;
    const g = uniformF64(n, 31, -6, 6), u = uniformF64(n, 32, -2, 2), dh = uniformF64(n, 33);
    const dg = new Float64Array(n), du = new Float64Array(n);
    swigluBackward(dg, du, dh, g, u, { n });
    const loss = (gg: Float64Array, uu: Float64Array) => {
      const h = new Float64Array(n);
      swigluForward(h, gg, uu, { n });
      return dot(h, dh);
    };
    expectGradMatches(dg, (v) => loss(v, u), g, 'dg');
    expectGradMatches(du, (v) => loss(g, v), u, 'du');
  });

  it('accumulate adds to dg and du', () => {
    const n = 5, g = uniformF64(n, 34), u = uniformF64(n, 35), dh = uniformF64(n, 36);
    const dg = new Float64Array(n), du = new Float64Array(n);
    swigluBackward(dg, du, dh, g, u, { n });
    const dg2 = uniformF64(n, 37), du2 = uniformF64(n, 38);
    const want = [dg2.map((v, i) => v + dg[i]), du2.map((v, i) => v + du[i])];
    swigluBackward(dg2, du2, dh, g, u, { n, accumulate: true });
    expect(Array.from(dg2)).toEqual(Array.from(want[0]));
    expect(Array.from(du2)).toEqual(Array.from(want[1]));
  });
});
