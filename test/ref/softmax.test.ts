import { describe, expect, it } from 'vitest';
import { softmaxBackward, softmaxForward } from '../../src/ref/softmax';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

describe('softmax reference', () => {
  for (const [rows, N] of [[1, 1], [3, 7], [2, 13]]) {
    it(`backward vs finite differences (Float64), rows=${rows} N=${N}`, () => {
      const s = { rows, N };
      const x = uniformF64(rows * N, 1, -3, 3);
      const dy = uniformF64(rows * N, 2);
      const y = new Float64Array(rows * N);
      softmaxForward(y, x, s);
      const dx = new Float64Array(rows * N);
      softmaxBackward(dx, dy, y, s);
      const loss = (xx: Float64Array) => {
        const yy = new Float64Array(rows * N);
        softmaxForward(yy, xx, s);
        return dot(yy, dy);
      };
      expectGradMatches(dx, loss, x, 'dx');
    });
  }

  it('rows sum to 1 and stay finite for logits far from 0 (max subtraction)', () => {
    const x = Float64Array.from([1000, 1001, 999, -1000, -1001, -999]);
    const y = new Float64Array(6);
    softmaxForward(y, x, { rows: 2, N: 3 });
    expect(y.every(Number.isFinite)).toBe(true);
    expect(y[0] + y[1] + y[2]).toBeCloseTo(1, 12);
    expect(y[3] + y[4] + y[5]).toBeCloseTo(1, 12);
    expect(y[1]).toBeCloseTo(Math.exp(1) / (1 + Math.exp(1) + Math.exp(-1)), 12);
  });
});
