import { describe, expect, it } from 'vitest';
import type { KernelDescriptor } from '../../src/gpu/kernel';
import { fitsVec4, matmulKernel, matmulVariant, matmulVec4Kernel, matmulVec4x8Kernel, matmulVec8x8Kernel } from '../../src/kernels/matmul';
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

// Shapes whose contiguous axes are multiples of 4 in every layout (the vec4 kernel); none is a
// multiple of the 64×64 workgroup tile.
const ALIGNED: MatmulShape[] = [
  { M: 4, N: 4, K: 4 },
  { M: 44, N: 68, K: 32 },
  { M: 68, N: 20, K: 44, batch: 2 },
  { M: 12, N: 132, K: 8 },
];

async function check(kernel: KernelDescriptor<MatmulShape>, s: MatmulShape, withBias: boolean, seed: number) {
  const ctx = await testContext();
  const batch = s.batch ?? 1;
  const { strideA, strideB, strideC } = matmulStrides(s);
  const aLen = strideA === 0 ? s.M * s.K : strideA * batch;
  const bLen = strideB === 0 ? s.K * s.N : strideB * batch;
  const a = uniformF32(aLen, seed);
  const b = uniformF32(bLen, seed + 1);
  const bias = uniformF32(s.N, seed + 2);
  const c0 = uniformF32(strideC * batch, seed + 3);
  const shape = { ...s, hasBias: withBias };
  const expected = Float32Array.from(c0);
  matmul(expected, a, b, withBias ? bias : null, shape);
  const bufs = { a: ctx.upload('a', a), b: ctx.upload('b', b), c: ctx.upload('c', c0), bias: ctx.upload('bias', bias) };
  await ctx.run(kernel, shape, bufs);
  const got = await ctx.readF32(bufs.c, expected.length);
  expectAllClose(got, expected, TOL.matmul, `${kernel.key(shape)} ${JSON.stringify(s)}`);
}

function forEachLayout(shapes: MatmulShape[], body: (s: MatmulShape) => void) {
  for (const base of shapes) for (const transA of [false, true]) for (const transB of [false, true]) {
    body({ ...base, transA, transB });
  }
}

const name = (s: MatmulShape) => `${s.batch ?? 1}×${s.M}×${s.N}×${s.K} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;

describe('matmul.wgsl (scalar loads) vs reference', () => {
  let seed = 10;
  forEachLayout([...SHAPES, ...ALIGNED], (s) => {
    it(name(s), async () => {
      await check(matmulKernel, s, false, seed++);
      await check(matmulKernel, s, true, seed++);
    });
  });
  it('alpha and beta accumulate into C (parameter-gradient accumulation)', async () => {
    await check(matmulKernel, { M: 9, N: 11, K: 6, alpha: 0.5, beta: 1 }, false, 99);
  });
  it('stride 0 broadcasts one weight over the batch', async () => {
    await check(matmulKernel, { M: 5, N: 6, K: 7, batch: 4, strideB: 0 }, true, 123);
  });
});

describe('matmul_vec4.wgsl and matmul_vec4_4x8.wgsl vs reference', () => {
  let seed = 500;
  forEachLayout(ALIGNED, (s) => {
    it(name(s), async () => {
      expect(fitsVec4(s)).toBe(true);
      for (const k of [matmulVec4Kernel, matmulVec4x8Kernel]) {
        await check(k, s, false, seed++);
        await check(k, s, true, seed++);
      }
    });
  });
  // Ragged M (and N when B is stored transposed) is fine where that axis is not contiguous.
  for (const s of [{ M: 45, N: 68, K: 32 }, { M: 45, N: 68, K: 32, transB: true }, { M: 45, N: 65, K: 32, transB: true }]) {
    it(`${name(s)} (ragged edge)`, async () => {
      expect(fitsVec4(s)).toBe(true);
      await check(matmulVec4Kernel, s, true, seed++);
      await check(matmulVec4x8Kernel, s, true, seed++);
    });
  }
  it('alpha, beta and a broadcast weight', async () => {
    await check(matmulVec4Kernel, { M: 9, N: 12, K: 8, alpha: -2, beta: 1, batch: 3, strideB: 0 }, true, 77);
    await check(matmulVec4x8Kernel, { M: 9, N: 12, K: 8, alpha: -2, beta: 1, batch: 3, strideB: 0 }, true, 78);
  });
  it('is chosen only for aligned shapes', () => {
    expect(matmulVariant({ M: 8, N: 8, K: 8 })).toBe(matmulVec4x8Kernel);
    // Full-size products (M, N > 16, K > 64) run the 8×8 kernel in every layout.
    for (const t of [{}, { transA: true }, { transB: true }]) expect(matmulVariant({ M: 20, N: 20, K: 68, ...t })).toBe(matmulVec8x8Kernel);
    expect(matmulVariant({ M: 20, N: 20, K: 64 })).toBe(matmulVec4x8Kernel);
    expect(matmulVariant({ M: 20, N: 16, K: 68 })).toBe(matmulVec4x8Kernel);
    expect(matmulVariant({ M: 8, N: 8, K: 8, transB: true })).toBe(matmulVec4Kernel);
    expect(matmulVariant({ M: 8, N: 8, K: 8, transA: true })).toBe(matmulVec4x8Kernel);
    expect(matmulVariant({ M: 8, N: 7, K: 8 })).toBe(matmulKernel);
    expect(matmulVariant({ M: 7, N: 8, K: 8, transA: true })).toBe(matmulKernel);
    expect(matmulVariant({ M: 8, N: 8, K: 6 })).toBe(matmulKernel);
  });
});
