import { describe, expect, it } from 'vitest';
import {
  elementwiseAdd, elementwiseAddBackward, elementwiseAxpy, elementwiseAxpyBackward, elementwiseScale,
  elementwiseScaleBackward,
} from '../../src/ref/elementwise';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

// L = Σ dOut ⊙ f(inputs) with a seeded dOut; every analytic gradient against central differences.
describe('elementwise reference backward vs finite differences (Float64)', () => {
  const n = 13;
  const dOut = uniformF64(n, 1);

  it('add: dA = dB = dOut', () => {
    const a = uniformF64(n, 2), b = uniformF64(n, 3);
    const dA = new Float64Array(n), dB = new Float64Array(n);
    elementwiseAddBackward(dA, dB, dOut, { n });
    const loss = (aa: Float64Array, bb: Float64Array) => {
      const out = new Float64Array(n);
      elementwiseAdd(out, aa, bb, { n });
      return dot(out, dOut);
    };
    expectGradMatches(dA, (v) => loss(v, b), a, 'dA');
    expectGradMatches(dB, (v) => loss(a, v), b, 'dB');
  });

  it('scale: dx = alpha·dOut, dAlpha = Σ x·dOut', () => {
    const x = uniformF64(n, 4), alpha = Float64Array.of(-0.7);
    const dx = new Float64Array(n), dAlpha = new Float64Array(1);
    elementwiseScaleBackward(dx, dAlpha, dOut, x, { n, alpha: alpha[0] });
    const loss = (xx: Float64Array, al: Float64Array) => {
      const out = Float64Array.from(xx);
      elementwiseScale(out, { n, alpha: al[0] });
      return dot(out, dOut);
    };
    expectGradMatches(dx, (v) => loss(v, alpha), x, 'dx');
    expectGradMatches(dAlpha, (v) => loss(x, v), alpha, 'dAlpha');
  });

  it('axpy: dx = alpha·dOut, dy = dOut, dAlpha = Σ x·dOut', () => {
    const x = uniformF64(n, 5), y = uniformF64(n, 6), alpha = Float64Array.of(1.3);
    const dx = new Float64Array(n), dAlpha = new Float64Array(1);
    elementwiseAxpyBackward(dx, dAlpha, dOut, x, { n, alpha: alpha[0] });
    const loss = (xx: Float64Array, yy: Float64Array, al: Float64Array) => {
      const out = Float64Array.from(yy);
      elementwiseAxpy(out, xx, { n, alpha: al[0] });
      return dot(out, dOut);
    };
    expectGradMatches(dx, (v) => loss(v, y, alpha), x, 'dx');
    expectGradMatches(dOut, (v) => loss(x, v, alpha), y, 'dy (identity)');
    expectGradMatches(dAlpha, (v) => loss(x, y, v), alpha, 'dAlpha');
  });

  it('add may write over its left operand (out = a)', () => {
    const a = uniformF64(n, 7), b = uniformF64(n, 8);
    const expected = a.map((v, i) => v + b[i]);
    elementwiseAdd(a, a, b, { n });
    expect(Array.from(a)).toEqual(Array.from(expected));
  });
});
