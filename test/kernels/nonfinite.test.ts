import { describe, expect, it } from 'vitest';
import { NO_INDEX, countNonfinite } from '../../src/kernels/nonfinite';
import { nonfiniteCount, nonfiniteReset } from '../../src/ref/nonfinite';
import { testContext } from '../helpers/gpu';
import { randomInts, uniformF32 } from '../helpers/random';

// Inputs are built as u32 words and uploaded as such: storing a NaN through a Float32Array may
// canonicalise its payload in the JS engine.
const BAD = { qNaN: 0x7fc00000, sNaN: 0x7f800001, negNaN: 0xffffffff, negSNaN: 0xff800001, posInf: 0x7f800000, negInf: 0xff800000 };
const GOOD = [0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00400000, 0x7f7fffff, 0xff7fffff];  // ±0, denormals, ±FLT_MAX

/** Seeded finite floats with every finite special value sprinkled in. */
function finiteWords(n: number, seed: number): Uint32Array {
  const w = new Uint32Array(uniformF32(n, seed, -1e3, 1e3).buffer);
  randomInts(Math.min(n, 64), seed + 1, n).forEach((at, k) => { w[at] = GOOD[k % GOOD.length]; });
  return w;
}

async function gpuScan(words: Uint32Array, parts: { n: number; xOffset: number }[], foldAt?: number) {
  const ctx = await testContext();
  const x = ctx.upload('x', words);
  const result = ctx.createBuffer('result', 8);
  const got = await countNonfinite(ctx, parts.map((p) => ({ ...p, x })), result, foldAt);
  x.destroy();
  result.destroy();
  return got;
}

function refScan(words: Uint32Array, parts: { n: number; xOffset: number }[]) {
  const r = new Uint32Array(2);
  nonfiniteReset(r);
  let indexBase = 0;
  for (const p of parts) {
    nonfiniteCount(r, new Float32Array(words.buffer), { ...p, indexBase });
    indexBase += p.n;
  }
  return { count: r[0], first: r[1] };
}

async function expectScan(words: Uint32Array, parts: { n: number; xOffset: number }[], what: string, foldAt?: number) {
  const want = refScan(words, parts);
  expect(await gpuScan(words, parts, foldAt), what).toEqual(want);
  return want;
}

describe('nonfinite_count.wgsl vs reference', () => {
  for (const n of [1, 7, 4097, 70001]) {
    it(`n=${n}: finite specials are not flagged; each NaN/Inf kind at the last element is`, async () => {
      const words = finiteWords(n, n);
      expect(await expectScan(words, [{ n, xOffset: 0 }], 'all finite')).toEqual({ count: 0, first: NO_INDEX });
      for (const [kind, bits] of Object.entries(BAD)) {
        const w = words.slice();
        w[n - 1] = bits;
        expect(await expectScan(w, [{ n, xOffset: 0 }], `${kind} last`)).toEqual({ count: 1, first: n - 1 });
      }
    });
  }

  it('many offenders at seeded positions: count and lowest index', async () => {
    const n = 4097;
    const words = finiteWords(n, 5);
    const kinds = Object.values(BAD);
    randomInts(40, 6, n).forEach((at, k) => { words[at] = kinds[k % kinds.length]; });
    words[0] = BAD.negInf;
    const want = await expectScan(words, [{ n, xOffset: 0 }], 'many');
    expect(want.first).toBe(0);
  });

  it('several tensors at offsets share one result; indices are flat across tensors', async () => {
    const words = finiteWords(5000, 7);
    words[2] = BAD.qNaN;            // in the gap before the first tensor: must not count
    words[10 + 6] = BAD.posInf;     // last element of the first tensor (n = 7)
    words[100 + 4096] = BAD.sNaN;   // last element of the second (n = 4097)
    words[4900] = BAD.negNaN;       // past every tensor
    const parts = [{ n: 7, xOffset: 10 }, { n: 4097, xOffset: 100 }, { n: 1, xOffset: 4500 }];
    expect(await expectScan(words, parts, 'three tensors')).toEqual({ count: 2, first: 6 });
    const later = [parts[1], parts[2], { n: 7, xOffset: 10 }];
    expect(await expectScan(words, later, 'reordered')).toEqual({ count: 2, first: 4096 });
  });

  it('folded grid (fold limit 7) reaches the last element of 70001', async () => {
    const words = finiteWords(70001, 8);
    words[70000] = BAD.negInf;
    words[40000] = BAD.qNaN;
    expect(await expectScan(words, [{ n: 70001, xOffset: 0 }], 'folded', 7)).toEqual({ count: 2, first: 40000 });
  });
});
