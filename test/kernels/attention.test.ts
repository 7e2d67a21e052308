import { describe, it } from 'vitest';
import { runAttentionBackward, runAttentionForward } from '../../src/kernels/attention';
import { type AttentionShape, attentionBackward, attentionForward } from '../../src/ref/attention';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// [B, T, NH, HS]: T = 1, 7, 13, 45 (45 > 32 switches the row workgroup to 64 threads and is not a
// multiple of either); head sizes 8, 16, 64 and the odd 12 and 3; NH 1..4, B 1..2.
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 8],
  [1, 7, 2, 16],
  [2, 13, 3, 12],
  [1, 45, 4, 64],
  [2, 45, 2, 8],
  [2, 7, 4, 64],
  [1, 13, 1, 3],
  [2, 45, 3, 16],
];

async function check(s: AttentionShape, seed: number, range = 2) {
  const ctx = await testContext();
  const { B, T, C, NH } = s;
  const qkv = uniformF32(B * T * 3 * C, seed, -range, range);
  const dout = uniformF32(B * T * C, seed + 1);
  const out = new Float32Array(B * T * C), att = new Float32Array(B * NH * T * T);
  attentionForward(out, att, qkv, s);
  const dqkv = new Float32Array(qkv.length), dpreatt = new Float32Array(att.length);
  attentionBackward(dqkv, dpreatt, dout, qkv, att, s);
  const bufs = {
    qkv: ctx.upload('qkv', qkv), dout: ctx.upload('dout', dout),
    out: ctx.createBuffer('out', out.byteLength), att: ctx.createBuffer('att', att.byteLength),
    dpreatt: ctx.createBuffer('dpreatt', att.byteLength), dqkv: ctx.createBuffer('dqkv', qkv.byteLength),
  };
  await runAttentionForward(ctx, s, bufs);
  await runAttentionBackward(ctx, s, bufs); // consumes the GPU's own att, as in training
  const what = `attention B=${B} T=${T} NH=${NH} HS=${C / NH} ${s.causal ? 'causal' : 'full'}`;
  expectAllClose(await ctx.readF32(bufs.att, att.length), att, TOL.reduction, `${what} att`);
  expectAllClose(await ctx.readF32(bufs.out, out.length), out, TOL.matmul, `${what} out`);
  expectAllClose(await ctx.readF32(bufs.dpreatt, att.length), dpreatt, TOL.backward, `${what} dpreatt`);
  expectAllClose(await ctx.readF32(bufs.dqkv, qkv.length), dqkv, TOL.backward, `${what} dqkv`);
  for (const b of Object.values(bufs)) b.destroy();
}

describe('attention_{forward,forward_values,backward,backward_qkv}.wgsl vs reference', () => {
  let seed = 300;
  for (const [B, T, NH, HS] of SHAPES) {
    for (const causal of [true, false]) {
      it(`B=${B} T=${T} NH=${NH} HS=${HS} ${causal ? 'causal' : 'full'}`, async () => {
        await check({ B, T, C: NH * HS, NH, causal }, seed++);
      });
    }
  }
  // Inputs of ±12 give scores beyond 88, where exp() overflows f32 unless the row maximum is
  // subtracted first (larger scores would also amplify the scores' own rounding past the tolerance).
  it('large scores: the softmax subtracts the true row maximum', async () => {
    await check({ B: 1, T: 45, C: 32, NH: 2, causal: false }, 41, 12);
    await check({ B: 1, T: 45, C: 32, NH: 2, causal: true }, 42, 12);
  });
  it('B·NH·T > 65535 rows fold over two workgroup dimensions', async () => {
    await check({ B: 1821, T: 9, C: 8, NH: 4, causal: true }, 7);
  });
});
