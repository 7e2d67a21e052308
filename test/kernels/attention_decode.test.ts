import { describe, expect, it } from 'vitest';
import { runAttentionDecode } from '../../src/kernels/attention_decode';
import { attentionForward } from '../../src/ref/attention';
import { type AttentionDecodeShape, attentionDecode } from '../../src/ref/attention_decode';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// [T, NH, HS]: T = 1, 7, 45 (45 > 32 switches to 64 threads; 300 > 256 to 256 threads), head sizes
// 8, 16, 64 and the odd 12, NH 1..4. The cache holds EXTRA rows beyond T filled with large values:
// reading one of them would break the comparison.
const SHAPES: [number, number, number][] = [
  [1, 1, 8], [1, 4, 64], [7, 2, 16], [7, 3, 12], [45, 4, 64], [45, 1, 8], [45, 3, 16], [300, 2, 16],
];
const EXTRA = 3;

/** The step's qkv row, caches with garbage past T, and the reference outputs. */
function inputs(s: AttentionDecodeShape, seed: number, range = 2, dominant?: number) {
  const { T, C, NH } = s;
  const qkv = uniformF32(3 * C, seed, -range, range);
  const kcache = uniformF32((T + EXTRA) * C, seed + 1, -range, range);
  const vcache = uniformF32((T + EXTRA) * C, seed + 2);
  if (dominant !== undefined) {
    // Key `dominant` = 40·q in every head: its score is ~200, the others' a few units, so a softmax
    // that subtracts anything but this key's score overflows exp() in f32.
    for (let i = 0; i < C; i++) kcache[dominant * C + i] = 40 * qkv[i];
  }
  kcache.fill(50, T * C);
  vcache.fill(-1e3, T * C);
  const out = new Float32Array(C), att = new Float32Array(NH * T);
  attentionDecode(out, att, qkv, kcache, vcache, s);
  return { qkv, kcache, vcache, out, att };
}

async function check(s: AttentionDecodeShape, seed: number, range = 2, dominant?: number) {
  const ctx = await testContext();
  const x = inputs(s, seed, range, dominant);
  const bufs = {
    qkv: ctx.upload('qkv', x.qkv), kcache: ctx.upload('kcache', x.kcache), vcache: ctx.upload('vcache', x.vcache),
    att: ctx.createBuffer('att', x.att.byteLength), out: ctx.createBuffer('out', x.out.byteLength),
  };
  await runAttentionDecode(ctx, s, bufs);
  const what = `attention_decode T=${s.T} NH=${s.NH} HS=${s.C / s.NH}`;
  expectAllClose(await ctx.readF32(bufs.att, x.att.length), x.att, TOL.reduction, `${what} att`);
  expectAllClose(await ctx.readF32(bufs.out, x.out.length), x.out, TOL.matmul, `${what} out`);
  for (const b of Object.values(bufs)) b.destroy();
}

describe('attention_decode reference', () => {
  it('equals the last row of causal attentionForward over the same keys and values', () => {
    const T = 9, NH = 3, HS = 8, C = NH * HS;
    const qkv = uniformF32(T * 3 * C, 5, -2, 2);
    const out = new Float32Array(T * C), att = new Float32Array(NH * T * T);
    attentionForward(out, att, qkv, { B: 1, T, C, NH, causal: true });
    const k = new Float32Array(T * C), v = new Float32Array(T * C);
    for (let s = 0; s < T; s++) {
      k.set(qkv.subarray(s * 3 * C + C, s * 3 * C + 2 * C), s * C);
      v.set(qkv.subarray(s * 3 * C + 2 * C, s * 3 * C + 3 * C), s * C);
    }
    const dOut = new Float32Array(C), dAtt = new Float32Array(NH * T);
    attentionDecode(dOut, dAtt, qkv.subarray((T - 1) * 3 * C), k, v, { T, C, NH });
    expectAllClose(dOut, out.subarray((T - 1) * C), TOL.exact, 'decode out = last causal row');
    for (let h = 0; h < NH; h++) {
      expectAllClose(dAtt.subarray(h * T, (h + 1) * T), att.subarray(((h * T) + T - 1) * T, (h * T + T) * T), TOL.exact, `att head ${h}`);
    }
    expect(dOut.some((o) => o !== 0)).toBe(true);
  });
});

describe('attention_decode.wgsl vs reference', () => {
  let seed = 700;
  for (const [T, NH, HS] of SHAPES) {
    it(`T=${T} NH=${NH} HS=${HS}`, async () => {
      await check({ T, C: NH * HS, NH }, seed);
      seed += 3;
    });
  }
  // Scores beyond 88 overflow exp() in f32 unless the row maximum is subtracted first.
  it('large scores: the softmax subtracts the true maximum', async () => {
    await check({ T: 45, C: 32, NH: 2 }, 41, 12);
  });
  // The row maximum must come from every position, whichever thread of the reduction holds it.
  it('one dominant key at any position', async () => {
    for (const j of [0, 20, 31, 41, 44]) await check({ T: 45, C: 32, NH: 2 }, 60 + j, 2, j);
  });
});
