import { describe, expect, it } from 'vitest';
import { prepareGqaBackward, prepareGqaForward, runGqaBackward, runGqaForward } from '../../src/kernels/attention_gqa';
import { type GqaShape, gqaBackward, gqaForward } from '../../src/ref/attention_gqa';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

type Case = GqaShape & { maxGroupsPerDim?: number };

/** Forward then backward on the GPU (the backward reads the GPU's att), each output against the reference. */
async function check(s: Case, seed: number, amp = 1) {
  const ctx = await testContext();
  const nq = s.B * s.T * s.NH * s.HS, nkv = s.B * s.T * s.NKV * s.HS, natt = s.B * s.NH * s.T * s.T;
  const what = `B=${s.B} T=${s.T} NH=${s.NH} NKV=${s.NKV} HS=${s.HS}`;
  const q = uniformF32(nq, seed, -amp, amp), k = uniformF32(nkv, seed + 1, -amp, amp);
  const v = uniformF32(nkv, seed + 2), dout = uniformF32(nq, seed + 3);
  const out = new Float32Array(nq), att = new Float32Array(natt);
  gqaForward(out, att, q, k, v, s);
  const dq = new Float32Array(nq), dk = new Float32Array(nkv), dv = new Float32Array(nkv), dpreatt = new Float32Array(natt);
  gqaBackward(dq, dk, dv, dpreatt, dout, q, k, v, att, s);

  // Outputs start as garbage (not zeros), so an unwritten element cannot pass.
  const junk = (n: number, name: string) => ctx.upload(name, uniformF32(n, seed + 9, 5, 6));
  const bufs = {
    q: ctx.upload('q', q), k: ctx.upload('k', k), v: ctx.upload('v', v), dout: ctx.upload('dout', dout),
    att: junk(natt, 'att'), out: junk(nq, 'out'), dpreatt: junk(natt, 'dpreatt'),
    dq: junk(nq, 'dq'), dk: junk(nkv, 'dk'), dv: junk(nkv, 'dv'),
  };
  await runGqaForward(ctx, s, bufs);
  expectAllClose(await ctx.readF32(bufs.att, natt), att, TOL.reduction, `${what} att`);
  expectAllClose(await ctx.readF32(bufs.out, nq), out, TOL.matmul, `${what} out`);
  await runGqaBackward(ctx, s, bufs);
  expectAllClose(await ctx.readF32(bufs.dpreatt, natt), dpreatt, TOL.backward, `${what} dpreatt`);
  expectAllClose(await ctx.readF32(bufs.dq, nq), dq, TOL.backward, `${what} dq`);
  expectAllClose(await ctx.readF32(bufs.dk, nkv), dk, TOL.backward, `${what} dk`);
  expectAllClose(await ctx.readF32(bufs.dv, nkv), dv, TOL.backward, `${what} dv`);
}

describe('attention_gqa_*.wgsl vs reference (causal)', () => {
  // Ratios NH/NKV = 1, 2, 3, 4 and MQA; HS 8, 16, 24, 40, 64; T = 1, odd, and 33 (64-thread rows).
  const SHAPES: GqaShape[] = [
    { B: 1, T: 1, NH: 1, NKV: 1, HS: 8 },
    { B: 1, T: 5, NH: 3, NKV: 3, HS: 8 },
    { B: 2, T: 7, NH: 4, NKV: 2, HS: 16 },
    { B: 1, T: 7, NH: 6, NKV: 2, HS: 24 },
    { B: 2, T: 5, NH: 3, NKV: 1, HS: 40 },
    { B: 1, T: 33, NH: 2, NKV: 2, HS: 64 },
    { B: 1, T: 9, NH: 4, NKV: 1, HS: 64 },
    // HS not a multiple of 4: the scalar values and dq/dk/dv kernels (the others run the vec4 ones).
    { B: 2, T: 6, NH: 4, NKV: 2, HS: 6 },
    { B: 1, T: 11, NH: 3, NKV: 1, HS: 10 },
  ];
  let seed = 2700;
  for (const s of SHAPES) {
    it(`B=${s.B} T=${s.T} NH=${s.NH} NKV=${s.NKV} HS=${s.HS}`, async () => {
      await check(s, (seed += 10));
    });
  }

  // Inputs of ±6 with HS = 16 give scores near ±144, where exp() overflows f32 unless the row maximum
  // is subtracted first.
  it('large scores: the softmax subtracts the true row maximum', async () => {
    await check({ B: 1, T: 40, NH: 2, NKV: 1, HS: 16 }, 2800, 6);
  });

  it('rows and elements folded over a 4-workgroup axis limit', async () => {
    await check({ B: 2, T: 7, NH: 4, NKV: 2, HS: 16, maxGroupsPerDim: 4 }, 2810);
  });

  it('runs the vec4 values and dq/dk/dv kernels where HS is a multiple of 4, the scalar ones elsewhere', async () => {
    const ctx = await testContext();
    const b = ctx.createBuffer('b', 4096);
    const labels = async (HS: number) => {
      const s = { B: 1, T: 4, NH: 2, NKV: 1, HS };
      const fwd = await prepareGqaForward(ctx, s, { q: b, k: b, v: b, att: b, out: b });
      const bwd = await prepareGqaBackward(ctx, s, { dout: b, q: b, k: b, v: b, att: b, dpreatt: b, dq: b, dk: b, dv: b });
      for (const l of [...fwd, ...bwd]) l.destroy();
      return [fwd[1].label, bwd[1].label].map((l) => l.split('/')[0]);
    };
    expect(await labels(8)).toEqual(['attention_gqa_forward_values_vec4', 'attention_gqa_backward_qkv_vec4']);
    expect(await labels(6)).toEqual(['attention_gqa_forward_values', 'attention_gqa_backward_qkv']);
  });

  it('refuses NH not a multiple of NKV', async () => {
    const ctx = await testContext();
    const b = ctx.createBuffer('b', 64);
    await expect(runGqaForward(ctx, { B: 1, T: 1, NH: 3, NKV: 2, HS: 4 }, { q: b, k: b, v: b, att: b, out: b }))
      .rejects.toThrow(/NH=3 is not a multiple of NKV=2/);
  });
});
