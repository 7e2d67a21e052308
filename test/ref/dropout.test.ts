import { describe, expect, it } from 'vitest';
import { dropoutApply, dropoutScale } from '../../src/ref/dropout';

describe('dropout reference', () => {
  it('keeps u ≥ p scaled by 1/(1 − p), drops the rest; accumulate adds', () => {
    const out = new Float32Array(4);
    dropoutApply(out, Float32Array.of(1, 2, 3, 4), Float32Array.of(0.1, 0.5, 0.9, 0.49), { n: 4, p: 0.5 });
    expect([...out]).toEqual([0, 4, 6, 0]);
    dropoutApply(out, Float32Array.of(1, 1, 1, 1), Float32Array.of(0.6, 0.2, 0.5, 0.7), { n: 4, p: 0.5, accumulate: true });
    expect([...out]).toEqual([2, 4, 8, 2]);
    expect(dropoutScale(0.25)).toBe(Math.fround(4 / 3));
  });

  it('p = 0 is the identity', () => {
    const out = new Float32Array(3);
    dropoutApply(out, Float32Array.of(0.3, -2, 5), Float32Array.of(0, 0.5, 0.99), { n: 3, p: 0 });
    expect([...out]).toEqual([Math.fround(0.3), -2, 5]);
  });
});
