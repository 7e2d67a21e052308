import { describe, expect, it } from 'vitest';
import { type GeluApproximate, erf64, erfc64, erfcChebyshev, geluBackward, geluForward } from '../../src/ref/gelu';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

describe('Float64 erf', () => {
  // Values from CPython's math.erf / math.erfc (C libm).
  const ERF: [number, number][] = [[0.5, 0.5204998778130465], [1e-3, 0.0011283787909692365], [-1, -0.8427007929497149],
    [2, 0.9953222650189527]];
  const ERFC: [number, number][] = [[2.5, 4.069520174449589e-4], [3, 2.2090496998585438e-5], [5, 1.5374597944280351e-12],
    [Math.SQRT2 * 5, 1.5239706048320995e-23], [-2, 1.9953222650189528]];
  it('matches libm to 1e-14 relative, including the far tail of erfc', () => {
    for (const [x, v] of ERF) expect(Math.abs(erf64(x) / v - 1), `erf(${x})`).toBeLessThan(1e-14);
    for (const [x, v] of ERFC) expect(Math.abs(erfc64(x) / v - 1), `erfc(${x})`).toBeLessThan(1e-14);
  });
  it('is odd and continuous where its two methods meet (|x| = 2.5)', () => {
    expect(erf64(-0.3)).toBe(-erf64(0.3));
    expect(Math.abs(erf64(2.5 - 1e-13) - erf64(2.5))).toBeLessThan(1e-14);
    expect(Math.abs(erfc64(2.5 - 1e-13) / erfc64(2.5) - 1)).toBeLessThan(1e-11);
  });
});

describe("the shaders' erfc (Numerical Recipes erfcc) vs Float64 erfc", () => {
  it('has fractional error < 1.2e-7 on [−10, 10] (so erf has absolute error < 1.2e-7)', () => {
    const xs = Float64Array.from({ length: 20001 }, (_, i) => -10 + i * 0.001);
    const approx = xs.map(erfcChebyshev);
    const exact = xs.map(erfc64);
    expectAllClose(approx, exact, { atol: 0, rtol: 1.2e-7 }, 'erfcChebyshev');
  });
});

describe('gelu reference backward vs finite differences (Float64)', () => {
  // Mostly O(1) inputs where the curvature is, plus the saturated tails (±6, ±10).
  const x = Float64Array.from([...uniformF64(40, 1, -3, 3), -10, -6, -0.5, 0, 0.5, 6, 10]);
  const n = x.length;
  const dy = uniformF64(n, 2);
  for (const approximate of ['tanh', 'none'] as GeluApproximate[]) {
    it(`${approximate}: dx = dy·gelu'(x), and += when accumulating`, () => {
      const s = { n, approximate };
      const dx = new Float64Array(n);
      geluBackward(dx, x, dy, s);
      const loss = (v: Float64Array) => {
        const out = new Float64Array(n);
        geluForward(out, v, s);
        return dot(out, dy);
      };
      expectGradMatches(dx, loss, Float64Array.from(x), 'dx');
      const acc = uniformF64(n, 3);
      const expected = acc.map((v, i) => v + dx[i]);
      geluBackward(acc, x, dy, { ...s, accumulate: true });
      expectAllClose(acc, expected, { atol: 0, rtol: 0 }, 'dx += ');
    });
  }
  it('the two forms agree to ~1e-3 (tanh is an approximation of the erf form)', () => {
    const a = new Float64Array(n), b = new Float64Array(n);
    geluForward(a, x, { n, approximate: 'tanh' });
    geluForward(b, x, { n, approximate: 'none' });
    expectAllClose(a, b, { atol: 1e-3, rtol: 0 }, 'tanh vs erf form');
    // gelu(1) = Φ(1) = 0.8413447460685429 (exact form, CPython 0.5·(1 + erf(1/√2))).
    const one = new Float64Array(1);
    geluForward(one, Float64Array.of(1), { n: 1, approximate: 'none' });
    expect(Math.abs(one[0] - 0.8413447460685429)).toBeLessThan(1e-15);
  });
});
