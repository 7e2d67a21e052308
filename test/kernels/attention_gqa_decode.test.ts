import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import { runGqaForward } from '../../src/kernels/attention_gqa';
import { runGqaDecode } from '../../src/kernels/attention_gqa_decode';
import { runRopeForward } from '../../src/kernels/rope';
import { type GqaDecodeShape, gqaDecode } from '../../src/ref/attention_gqa';
import { invFreq, ropeTable } from '../../src/ref/rope_freq';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

type Case = GqaDecodeShape & { maxT: number; maxGroupsPerDim?: number };

/** The decode kernel against gqaDecode, over a cache whose rows ≥ T hold garbage. */
async function check(s: Case, seed: number, amp = 1) {
  const ctx = await testContext();
  const what = `T=${s.T}/${s.maxT} NH=${s.NH} NKV=${s.NKV} HS=${s.HS}`;
  const q = uniformF32(s.NH * s.HS, seed, -amp, amp);
  const kcache = uniformF32(s.maxT * s.NKV * s.HS, seed + 1, -amp, amp), vcache = uniformF32(s.maxT * s.NKV * s.HS, seed + 2);
  const out = new Float32Array(s.NH * s.HS), att = new Float32Array(s.NH * s.T);
  gqaDecode(out, att, q, kcache, vcache, s);
  const bufs = {
    q: ctx.upload('q', q), kcache: ctx.upload('kcache', kcache), vcache: ctx.upload('vcache', vcache),
    att: ctx.upload('att', uniformF32(s.NH * s.T, seed + 3, 5, 6)), out: ctx.upload('out', uniformF32(s.NH * s.HS, seed + 4, 5, 6)),
  };
  await runGqaDecode(ctx, s, bufs);
  expectAllClose(await ctx.readF32(bufs.att, att.length), att, TOL.reduction, `${what} att`);
  expectAllClose(await ctx.readF32(bufs.out, out.length), out, TOL.matmul, `${what} out`);
}

/** Copies `floats` values from the start of src to float offset dstFloat of dst, as a generator appends a step's k/v to its cache. */
function copy(ctx: GpuContext, src: GPUBuffer, dst: GPUBuffer, dstFloat: number, floats: number): void {
  const enc = ctx.device.createCommandEncoder({ label: 'append-kv' });
  enc.copyBufferToBuffer(src, 0, dst, dstFloat * 4, floats * 4);
  ctx.device.queue.submit([enc.finish()]);
}

describe('attention_gqa_decode.wgsl', () => {
  const SHAPES: Case[] = [
    { T: 1, maxT: 3, NH: 1, NKV: 1, HS: 8 },
    { T: 7, maxT: 9, NH: 4, NKV: 2, HS: 16 },
    { T: 7, maxT: 7, NH: 6, NKV: 2, HS: 24 },
    { T: 33, maxT: 40, NH: 3, NKV: 1, HS: 40 },
    { T: 300, maxT: 301, NH: 2, NKV: 2, HS: 64 }, // 256-thread rows
  ];
  let seed = 3000;
  for (const s of SHAPES) {
    it(`vs reference: T=${s.T} of ${s.maxT} cached rows, NH=${s.NH} NKV=${s.NKV} HS=${s.HS}`, async () => {
      await check(s, (seed += 10));
    });
  }

  it('large scores: the softmax subtracts the true maximum', async () => {
    await check({ T: 45, maxT: 45, NH: 3, NKV: 1, HS: 16 }, 3100, 6);
  });

  it('query heads folded over a 4-workgroup axis limit (NH = 9 → 3 × 3 groups)', async () => {
    await check({ T: 5, maxT: 6, NH: 9, NKV: 3, HS: 8, maxGroupsPerDim: 4 }, 3110);
  });

  it('refuses T beyond the cache rows', async () => {
    const ctx = await testContext();
    const b = ctx.createBuffer('b', 64);
    await expect(runGqaDecode(ctx, { T: 5, maxT: 4, NH: 1, NKV: 1, HS: 4 }, { q: b, kcache: b, vcache: b, att: b, out: b }))
      .rejects.toThrow(/T=5 exceeds the cache's 4 rows/);
  });

  // KV-cached generation: each step ropes its new q and k at position t (pos0 = t), appends k and v to
  // the cache and decodes; every step's output must equal row t of the whole-sequence computation
  // (RoPE at positions 0…T−1, then causal GQA), all on the GPU.
  it('step-by-step decode with RoPE offsets equals full recomputation (NH=6, NKV=2, HS=24, T=7)', async () => {
    const ctx = await testContext();
    const T = 7, maxT = 10, NH = 6, NKV = 2, HS = 24, rowQ = NH * HS, rowKV = NKV * HS;
    const { cos, sin } = ropeTable(invFreq({ rope_theta: 1e6 }, HS), maxT);
    const tab = { cos: ctx.upload('cos', cos), sin: ctx.upload('sin', sin) };
    const q = uniformF32(T * rowQ, 3200, -2, 2), k = uniformF32(T * rowKV, 3201, -2, 2), v = uniformF32(T * rowKV, 3202);

    const full = { q: ctx.upload('q', q), k: ctx.upload('k', k), v: ctx.upload('v', v),
      att: ctx.createBuffer('att', NH * T * T * 4), out: ctx.createBuffer('out', T * rowQ * 4) };
    await runRopeForward(ctx, { B: 1, T, NH, HS, pos0: 0, P: maxT }, { ...tab, x: full.q });
    await runRopeForward(ctx, { B: 1, T, NH: NKV, HS, pos0: 0, P: maxT }, { ...tab, x: full.k });
    await runGqaForward(ctx, { B: 1, T, NH, NKV, HS }, full);
    const want = await ctx.readF32(full.out, T * rowQ);

    const cache = { kcache: ctx.upload('kcache', uniformF32(maxT * rowKV, 3203, 5, 6)),
      vcache: ctx.upload('vcache', uniformF32(maxT * rowKV, 3204, 5, 6)) };
    const step = { q: ctx.createBuffer('q1', rowQ * 4), k: ctx.createBuffer('k1', rowKV * 4), v: ctx.createBuffer('v1', rowKV * 4),
      att: ctx.createBuffer('att1', NH * maxT * 4), out: ctx.createBuffer('out1', rowQ * 4) };
    for (let t = 0; t < T; t++) {
      ctx.write(step.q, q.subarray(t * rowQ, (t + 1) * rowQ));
      ctx.write(step.k, k.subarray(t * rowKV, (t + 1) * rowKV));
      ctx.write(step.v, v.subarray(t * rowKV, (t + 1) * rowKV));
      await runRopeForward(ctx, { B: 1, T: 1, NH, HS, pos0: t, P: maxT }, { ...tab, x: step.q });
      await runRopeForward(ctx, { B: 1, T: 1, NH: NKV, HS, pos0: t, P: maxT }, { ...tab, x: step.k });
      copy(ctx, step.k, cache.kcache, t * rowKV, rowKV);
      copy(ctx, step.v, cache.vcache, t * rowKV, rowKV);
      await runGqaDecode(ctx, { T: t + 1, maxT, NH, NKV, HS }, { q: step.q, ...cache, att: step.att, out: step.out });
      expectAllClose(await ctx.readF32(step.out, rowQ), want.subarray(t * rowQ, (t + 1) * rowQ), TOL.matmul, `step ${t}`);
    }
  });
});
