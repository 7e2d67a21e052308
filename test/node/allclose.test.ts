// The comparison helper itself: a non-finite value never counts as close, whatever the tolerance.
import { describe, expect, it } from 'vitest';
import { compareAllClose, expectNonFinite } from '../helpers/allclose';

const TOL = { atol: 1e-6, rtol: 1e-5 };
const ok = (a: number[], e: number[], tol = TOL) => compareAllClose(a, e, tol).ok;

describe('compareAllClose', () => {
  it('finite values within atol + rtol·|e| pass, outside fail', () => {
    expect(ok([1, 2.000001], [1, 2])).toBe(true);
    expect(ok([1, 2.001], [1, 2])).toBe(false);
  });
  it('NaN never equals NaN, a number or ±Inf', () => {
    expect(ok([NaN], [NaN])).toBe(false);
    expect(ok([NaN], [1])).toBe(false);
    expect(ok([1], [NaN])).toBe(false);
    expect(ok([NaN], [Infinity])).toBe(false);
  });
  it('±Inf never equals ±Inf (both sides overflowing is not agreement)', () => {
    expect(ok([Infinity], [Infinity])).toBe(false);
    expect(ok([-Infinity], [-Infinity])).toBe(false);
    expect(ok([Infinity], [1e30], { atol: Infinity, rtol: 0 })).toBe(false);
  });
  it('an infinite tolerance does not let NaN through', () => {
    expect(ok([NaN], [NaN], { atol: Infinity, rtol: Infinity })).toBe(false);
  });
  it('the report names the non-finite element', () => {
    const r = compareAllClose([1, NaN, 3], [1, NaN, 3], TOL, 'x');
    expect(r.ok).toBe(false);
    expect(r.worstIndex).toBe(1);
    expect(r.message).toMatch(/1\/3 elements.*\[1\] NaN vs NaN/);
  });
});

describe('expectNonFinite', () => {
  it('accepts exactly the places named, and fails on any other', () => {
    expectNonFinite([NaN, Infinity, -Infinity, 1], ['NaN', '+Inf', '-Inf', null]);
    expect(() => expectNonFinite([NaN, 1], ['NaN', 'NaN'])).toThrow(/1 elements differ/);
    expect(() => expectNonFinite([Infinity], ['NaN'])).toThrow(/want NaN/);
    expect(() => expectNonFinite([NaN], [null])).toThrow(/want finite/);
  });
});

describe('bit comparisons (test/gpu/train/helpers.ts)', () => {
  it('two NaNs with the same bits are neither "identical" nor "different"', async () => {
    const { bitsEqual, expectBits } = await import('../gpu/train/helpers');
    const nan = Float32Array.of(1, NaN), same = Float32Array.of(1, NaN);
    expect(() => expectBits(nan, same, 'w')).toThrow(/w: NaN at element 1/);
    expect(() => bitsEqual(nan, Float32Array.of(1, 2))).toThrow(/NaN at element 1/);
    expectBits(Float32Array.of(1, -0), Float32Array.of(1, -0), 'finite');
    expect(bitsEqual(Float32Array.of(0), Float32Array.of(-0))).toBe(false);
  });
});
