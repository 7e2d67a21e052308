// The matmul variants beyond the register-blocked three (matmul.test.ts): the workgroup-shared tiled
// kernel, the subgroup kernel and the f16-compute kernel, each against the CPU reference on odd shapes in
// every layout, with and without bias, alpha and accumulation. Variants this adapter cannot run are
// listed with the reason, from the adapter's own feature list; the ones it can run are all tested.
import { describe, expect, it } from 'vitest';
import { deviceFeatures, KERNEL_FEATURES } from '../../src/gpu/features';
import type { KernelDescriptor } from '../../src/gpu/kernel';
import { fitsVec4, matmulVec8x8Kernel, matmulVec8x8Workgroup } from '../../src/kernels/matmul';
import { F16_TOL, matmulF16Kernel, matmulQuadKernel, matmulSubgroupKernel, matmulTiledKernel, matmulVariants, shippedMatmulVariant } from '../../src/kernels/matmul_variants';
import { type MatmulShape, matmul, matmulStrides } from '../../src/ref/matmul';
import type { Tolerance } from '../helpers/allclose';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// Vec4-aligned where a layout needs it, ragged elsewhere; none a multiple of the 64×64 tile or of 4·SG.
const SHAPES: MatmulShape[] = [
  { M: 4, N: 4, K: 4 },
  { M: 44, N: 68, K: 36 },
  { M: 68, N: 20, K: 44, batch: 2 },
  { M: 12, N: 132, K: 8 },
  { M: 72, N: 72, K: 140 },  // several k tiles, a partial last one
];
const RAGGED: MatmulShape[] = [{ M: 45, N: 68, K: 32 }, { M: 45, N: 65, K: 32, transB: true }];

async function check(kernel: KernelDescriptor<MatmulShape>, s: MatmulShape, withBias: boolean, seed: number, tol: Tolerance = TOL.matmul) {
  const ctx = await testContext();
  const batch = s.batch ?? 1;
  const { strideA, strideB, strideC } = matmulStrides(s);
  const a = uniformF32(strideA === 0 ? s.M * s.K : strideA * batch, seed);
  const b = uniformF32(strideB === 0 ? s.K * s.N : strideB * batch, seed + 1);
  const bias = uniformF32(s.N, seed + 2);
  const c0 = uniformF32(strideC * batch, seed + 3);
  const shape = { ...s, hasBias: withBias };
  const expected = Float32Array.from(c0);
  matmul(expected, a, b, withBias ? bias : null, shape);
  const bufs = { a: ctx.upload('a', a), b: ctx.upload('b', b), c: ctx.upload('c', c0), bias: ctx.upload('bias', bias) };
  await ctx.run(kernel, shape, bufs);
  const got = await ctx.readF32(bufs.c, expected.length);
  expectAllClose(got, expected, tol, `${kernel.key(shape)} ${JSON.stringify(s)}`);
}

const layouts = (shapes: MatmulShape[]) => shapes.flatMap((base) =>
  [false, true].flatMap((transA) => [false, true].map((transB) => ({ ...base, transA, transB }))));
const name = (s: MatmulShape) => `${s.batch ?? 1}×${s.M}×${s.N}×${s.K} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;

/** Runs one variant over every layout of SHAPES and the ragged ones, plain, with bias, and alpha/beta. */
async function checkAll(kernel: KernelDescriptor<MatmulShape>, seed0: number, tol: Tolerance = TOL.matmul) {
  let seed = seed0;
  for (const s of [...layouts(SHAPES), ...RAGGED]) {
    expect(fitsVec4(s)).toBe(true);
    await check(kernel, s, false, seed++, tol);
    await check(kernel, s, true, seed++, tol);
  }
  await check(kernel, { M: 9, N: 12, K: 8, alpha: -2, beta: 1, batch: 3, strideB: 0 }, true, seed++, tol);
  await check(kernel, { M: 44, N: 8, K: 20, transA: true, alpha: 0.5, beta: 1 }, false, seed++, tol);
}

describe('matmul_tiled.wgsl (workgroup-shared 64×64 tiles, vec4 loads, 4×4 micro-tile) vs reference', () => {
  let seed = 900;
  for (const s of layouts(SHAPES)) {
    it(name(s), async () => {
      await check(matmulTiledKernel, s, false, seed++);
      await check(matmulTiledKernel, s, true, seed++);
    });
  }
  it('ragged edges, alpha/beta accumulation and a broadcast weight', async () => {
    for (const s of RAGGED) await check(matmulTiledKernel, s, true, seed++);
    await check(matmulTiledKernel, { M: 9, N: 12, K: 8, alpha: -2, beta: 1, batch: 3, strideB: 0 }, true, seed++);
    await check(matmulTiledKernel, { M: 44, N: 8, K: 20, transA: true, alpha: 0.5, beta: 1 }, false, seed++);
  });
});

describe('matmul_vec4_8x8.wgsl (vec4 loads, 8×8 per thread) vs reference', () => {
  // Shapes whose M or N ends mid-block (45, 44 = 5·8 + 4, 20, 12) exercise both masked halves.
  it('every layout, ragged edges, bias, alpha/beta, on an 8×8 workgroup (the selector\'s for small products)', async () => {
    expect(matmulVec8x8Kernel.key({ M: 72, N: 72, K: 140 })).toContain('/wg8x8/');
    await checkAll(matmulVec8x8Kernel, 1700);
  });
  it('the same on a 16×16 workgroup (the selector\'s where it makes ≥ 6 workgroups)', async () => {
    expect(matmulVec8x8Kernel.key({ M: 128, N: 768, K: 768 })).toContain('/wg16x16/');
    await checkAll(matmulVec8x8Workgroup([16, 16]), 1800);
  });
});

describe('feature-gated variants (subgroups, shader-f16)', () => {
  it('the device has exactly the kernel features its adapter offers; the others skip their variants, saying why', async () => {
    const ctx = await testContext();
    const adapter = await navigator.gpu.requestAdapter();
    expect(adapter).toBeTruthy();
    const offered = KERNEL_FEATURES.filter((f) => adapter!.features.has(f));
    const features = deviceFeatures(ctx);
    expect(features.has).toEqual(offered);
    const { eligible, skipped } = matmulVariants(features, { M: 8, N: 8, K: 8 });
    const ids = eligible.map((v) => v.id);
    console.log(`[lorasc] adapter kernel features: ${offered.join(', ') || 'none'}; subgroup sizes ` +
      `${features.subgroupMinSize ?? '?'}..${features.subgroupMaxSize ?? '?'}; variants run here: ${ids.join(', ')}; ` +
      `skipped: ${skipped.map((s) => `${s.id} (${s.reason})`).join('; ')}`);
    expect(ids).toEqual(expect.arrayContaining(['scalar', 'vec4', 'vec4x8', 'vec8x8', 'tiled']));
    const reason = (id: string) => skipped.find((s) => s.id === id)?.reason;
    if (!offered.includes('subgroups')) expect(reason('subgroup')).toMatch(/needs the 'subgroups' feature/);
    else if (!features.subgroupMinSize) expect(reason('subgroup')).toMatch(/subgroupMinSize/);
    else expect(ids).toContain('subgroup');
    if (!offered.includes('shader-f16')) expect(reason('f16')).toMatch(/needs the 'shader-f16' feature/);
    else expect(reason('f16')).toMatch(/only on request/);
    // Asked for, f16 is offered exactly when the device has shader-f16.
    const withF16 = matmulVariants(features, { M: 8, N: 8, K: 8 }, { allowF16: true }).eligible.map((v) => v.id);
    expect(withF16.includes('f16')).toBe(offered.includes('shader-f16'));
    // An unaligned shape leaves the scalar kernel only, and says so for every other variant.
    const ragged = matmulVariants(features, { M: 7, N: 7, K: 7 });
    expect(ragged.eligible.map((v) => v.id)).toEqual(['scalar']);
    expect(ragged.skipped.filter((s) => /vec4-aligned/.test(s.reason)).map((s) => s.id))
      .toEqual(expect.arrayContaining(['vec4', 'vec4x8', 'vec8x8', 'tiled']));
  });

  it('matmul_subgroup.wgsl vs reference, where the device has subgroups', async () => {
    const features = deviceFeatures(await testContext());
    const v = matmulVariants(features, { M: 8, N: 8, K: 8 }).eligible.find((e) => e.id === 'subgroup');
    expect(!!v).toBe(features.has.includes('subgroups') && !!features.subgroupMinSize);
    if (v) await checkAll(v.kernel, 1300);
    // The kernel for another subgroup width must also compile and be right where the device can run it.
    if (v && features.subgroupMinSize! >= 8) await checkAll(matmulSubgroupKernel(features.subgroupMinSize! / 2), 1400);
  });

  it('matmul_quad_16x12.wgsl vs reference, where the device has subgroups of 4 or more lanes', async () => {
    const features = deviceFeatures(await testContext());
    const can = features.has.includes('subgroups') && (features.subgroupMinSize ?? 0) >= 4;
    const full: MatmulShape = { M: 20, N: 20, K: 68 }; // the 'full' shape class
    const { eligible, skipped } = matmulVariants(features, full);
    expect(eligible.some((v) => v.id === 'quad16x12')).toBe(can);
    // On a CPU implementation it is the shipped choice for full-size products exactly where it can run.
    expect(shippedMatmulVariant(full, features)).toBe(can ? 'quad16x12' : 'vec8x8');
    expect(shippedMatmulVariant(full)).toBe('vec8x8');
    expect(shippedMatmulVariant({ M: 20, N: 20, K: 64 }, features)).toBe('vec4x8');
    if (!can) {
      expect(skipped.find((v) => v.id === 'quad16x12')?.reason).toMatch(/subgroup/);
      return;
    }
    // The shapes below run all three workgroup shapes (quadWorkgroup picks per product).
    expect([{ M: 44, N: 68, K: 36 }, { M: 140, N: 200, K: 72 }, { M: 12, N: 132, K: 8 }].map((x) => matmulQuadKernel.key(x)))
      .toEqual(['matmul_quad_16x12/wg8x8/NN', 'matmul_quad_16x12/wg4x16/NN', 'matmul_quad_16x12/wg16x4/NN']);
    await checkAll(matmulQuadKernel, 1900);
    // Several workgroups each way (128 rows × 96 columns each), partial last ones, lanes of a quad past N,
    // rows past M inside a quad's 16, in every layout and batched.
    let seed = 1990;
    for (const s of layouts([{ M: 140, N: 200, K: 72 }, { M: 132, N: 100, K: 132, batch: 2 }, { M: 20, N: 8, K: 4 }])) {
      await check(matmulQuadKernel, s, false, seed++);
      await check(matmulQuadKernel, { ...s, alpha: 0.5, beta: 1 }, true, seed++);
    }
  });

  it('matmul_f16.wgsl vs reference within its f16 tolerance, where the device has shader-f16', async () => {
    const features = deviceFeatures(await testContext());
    if (!features.has.includes('shader-f16')) {
      expect(matmulVariants(features, { M: 8, N: 8, K: 8 }, { allowF16: true }).eligible.map((v) => v.id)).not.toContain('f16');
      return;
    }
    await checkAll(matmulF16Kernel, 1500, F16_TOL);
  });
});
