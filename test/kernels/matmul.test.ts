import { describe, it } from 'vitest';
import { runMatmul } from '../../src/kernels/matmul';
import { type MatmulShape, matmul, matmulStrides } from '../../src/ref/matmul';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// Odd shapes: 1, 7, 45×65, sizes that are not multiples of the 4×4 block or any workgroup tile.
const SHAPES: MatmulShape[] = [
  { M: 1, N: 1, K: 1 },
  { M: 7, N: 7, K: 7 },
  { M: 45, N: 65, K: 33 },
  { M: 13, N: 3, K: 48 },   // N ≤ 16 workgroup variant
  { M: 8, N: 101, K: 5 },   // M ≤ 16 workgroup variant (LoRA rank-r product)
  { M: 70, N: 68, K: 17, batch: 3 },
];

async function check(s: MatmulShape, withBias: boolean, seed: number) {
  const ctx = await testContext();
  const batch = s.batch ?? 1;
  const { strideA, strideB, strideC } = matmulStrides(s);
  const aLen = strideA === 0 ? s.M * s.K : strideA * batch;
  const bLen = strideB === 0 ? s.K * s.N : strideB * batch;
  const a = uniformF32(aLen, seed);
  const b = uniformF32(bLen, seed + 1);
  const bias = uniformF32(s.N, seed + 2);
  const c0 = uniformF32(strideC * batch, seed + 3);
  const expected = Float32Array.from(c0);
  matmul(expected, a, b, withBias ? bias : null, { ...s, hasBias: withBias });
  const bufs = {
    a: ctx.upload('a', a), b: ctx.upload('b', b), c: ctx.upload('c', c0),
    bias: withBias ? ctx.upload('bias', bias) : undefined,
  };
  await runMatmul(ctx, s, bufs);
  const got = await ctx.readF32(bufs.c, expected.length);
  expectAllClose(got, expected, TOL.matmul, `matmul ${JSON.stringify(s)} bias=${withBias}`);
}

describe('matmul.wgsl vs reference', () => {
  let seed = 10;
  for (const base of SHAPES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const s = { ...base, transA, transB };
        it(`${base.batch ?? 1}×${base.M}×${base.N}×${base.K} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`, async () => {
          await check(s, false, seed++);
          await check(s, true, seed++);
        });
      }
    }
  }
  it('alpha and beta accumulate into C (parameter-gradient accumulation)', async () => {
    await check({ M: 9, N: 11, K: 6, alpha: 0.5, beta: 1 }, false, 99);
  });
  it('stride 0 broadcasts one weight over the batch', async () => {
    await check({ M: 5, N: 6, K: 7, batch: 4, strideB: 0 }, true, 123);
  });
});
