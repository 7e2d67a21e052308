// nonfinite reference on hand-made bit patterns. No finite differences: nothing here is differentiable.
import { describe, expect, it } from 'vitest';
import { NO_INDEX, nonfiniteCount, nonfiniteReset } from '../../src/ref/nonfinite';

const BAD = [0x7fc00000, 0x7f800001, 0xffffffff, 0xff800001, 0x7f800000, 0xff800000];   // NaNs, +Inf, −Inf
const GOOD = [0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x3f800000];  // ±0, denormals, ±FLT_MAX, 1

function scan(words: number[], indexBase = 0): Uint32Array {
  const r = new Uint32Array(2);
  nonfiniteReset(r);
  nonfiniteCount(r, new Float32Array(Uint32Array.from(words).buffer), { n: words.length, xOffset: 0, indexBase });
  return r;
}

describe('nonfinite reference', () => {
  it('finite specials (±0, denormals, ±FLT_MAX) are never flagged', () => {
    expect([...scan(GOOD)]).toEqual([0, NO_INDEX]);
  });
  it('every NaN payload and ±Inf is flagged; first index is the lowest', () => {
    expect([...scan([...GOOD, ...BAD])]).toEqual([BAD.length, GOOD.length]);
    expect([...scan([...GOOD, ...BAD], 100)]).toEqual([BAD.length, GOOD.length + 100]);
  });
  it('a Float64Array is tested by value', () => {
    const r = new Uint32Array(2);
    nonfiniteReset(r);
    nonfiniteCount(r, Float64Array.of(1, -0, Number.MAX_VALUE, 5e-324, NaN, -Infinity), { n: 5, xOffset: 1, indexBase: 0 });
    expect([...r]).toEqual([2, 3]);
  });
});
