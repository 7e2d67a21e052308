// Per-device matmul selection on the real device: the shipped table on SwiftShader (so every test and run
// here uses the kernel lab's kernels), timing every eligible variant when tuning is forced, and a variant
// that fails on the device (a compile error, a wrong product) rejected with its reason, never chosen.
import { afterEach, describe, expect, it } from 'vitest';
import { tune } from '../../src/gpu/autotune';
import { deviceFeatures, isSoftwareAdapter } from '../../src/gpu/features';
import { MemoryTuneStore } from '../../src/gpu/tuneStore';
import { matmulKernel, prepareMatmul } from '../../src/kernels/matmul';
import { chooseMatmul, matmulChoices, matmulSelection, matmulTrial, selectorFor, setKernelChoiceStore } from '../../src/kernels/matmul_select';
import { type PackedMatmulShape, choosePackedMatmul, matmulPackedAnyKernel, matmulPackedKernel, packedTrial, packedVariants } from '../../src/kernels/packed_variants';
import { F16_TOL, matmulShapeClass, matmulVariants, quadUnavailable, shippedMatmulKernel } from '../../src/kernels/matmul_variants';
import type { MatmulShape } from '../../src/ref/matmul';
import { testContext } from '../helpers/gpu';

afterEach(() => {
  matmulSelection.tuneSoftware = false;
  setKernelChoiceStore(new MemoryTuneStore());
});

describe('matmul variant selection on this device', () => {
  it('on SwiftShader every product runs the shipped variant of its shape class', async () => {
    const ctx = await testContext();
    expect(isSoftwareAdapter(ctx.adapterInfo)).toBe(true);
    setKernelChoiceStore(new MemoryTuneStore());
    const shapes: MatmulShape[] = [{ M: 64, N: 64, K: 64 }, { M: 64, N: 64, K: 64, transB: true },
      { M: 64, N: 64, K: 12, transA: true, beta: 1 }, { M: 7, N: 9, K: 5 }, { M: 64, N: 64, K: 68 }, { M: 64, N: 64, K: 68, transA: true }];
    for (const s of shapes) {
      const buf = ctx.createBuffer('x', 64 * 68 * 4);
      const launch = await prepareMatmul(ctx, s, { a: buf, b: buf, c: ctx.createBuffer('c', 64 * 64 * 4) });
      expect(launch.label).toBe(shippedMatmulKernel({ ...s, hasBias: false }, deviceFeatures(ctx)).key({ ...s, hasBias: false }));
      launch.destroy();
    }
    const records = await matmulChoices(ctx);
    expect(records.map((r) => r.shapeClass)).toEqual(shapes.map((s) => matmulShapeClass({ ...s, hasBias: false })));
    expect(records.every((r) => r.source === 'built-in')).toBe(true);
  });

  it('forced tuning times every eligible variant, picks the fastest and keeps it', async () => {
    const ctx = await testContext();
    matmulSelection.tuneSoftware = true;
    setKernelChoiceStore(new MemoryTuneStore());
    const s: MatmulShape = { M: 64, N: 64, K: 64, hasBias: true };
    const first = await chooseMatmul(ctx, s);
    const [record] = await matmulChoices(ctx);
    const eligible = matmulVariants(deviceFeatures(ctx), s).eligible.map((v) => v.id);
    expect(record.source).toBe('tuned');
    expect(Object.keys(record.timings!).sort()).toEqual([...eligible].sort());
    const fastest = Object.entries(record.timings!).reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    expect(first.variant).toBe(fastest);
    expect(record.gflops).toBeGreaterThan(0);
    // The same class again (another size in it): same variant, no new timing.
    expect((await chooseMatmul(ctx, { M: 128, N: 96, K: 48, hasBias: true })).variant).toBe(first.variant);
    expect(await matmulChoices(ctx)).toHaveLength(1);
  });

  it('a variant that does not compile or gives a wrong product on the device is rejected with its reason', async () => {
    const ctx = await testContext();
    const s: MatmulShape = { M: 48, N: 40, K: 36 };
    const good = { id: 'scalar' as const, kernel: matmulKernel, tolerance: { atol: 1e-4, rtol: 1e-4 } };
    const broken = { ...good, kernel: { ...matmulKernel, name: 'matmul_broken', wgsl: matmulKernel.wgsl.replace('acc0 += ', 'acc0 += undefinedName + '), key: () => 'broken' } };
    // Reads op(B) transposed although it is not: a product of the right size with the wrong values.
    const wrong = { ...good, kernel: { ...matmulKernel, overrides: (x: MatmulShape) => ({ ...matmulKernel.overrides!(x), TRANS_B: 1 }), key: () => 'wrong' } };
    const choice = await tune([
      { id: 'broken', prepare: () => matmulTrial(ctx, broken, s) },
      { id: 'wrong', prepare: () => matmulTrial(ctx, wrong, s) },
      { id: 'scalar', prepare: () => matmulTrial(ctx, good, s) },
    ], { budgetMs: 1 });
    expect(choice.variant).toBe('scalar');
    expect(choice.rejected!.map((r) => r.id)).toEqual(['broken', 'wrong']);
    expect(choice.rejected![0].reason).toMatch(/does not compile on this device/);
    expect(choice.rejected![1].reason).toMatch(/wrong result on the check product: element \d+/);
    // f16 tolerance is wider than f32's, never narrower (it must not vouch for an f32 variant it would pass).
    expect(F16_TOL.atol).toBeGreaterThan(good.tolerance.atol);
  });
});

describe('packed-weight matmul selection on this device', () => {
  it('forced tuning validates and times every eligible packed variant against the CPU reference and keeps the fastest', async () => {
    const ctx = await testContext();
    matmulSelection.tuneSoftware = true;
    setKernelChoiceStore(new MemoryTuneStore());
    const s: PackedMatmulShape = { M: 64, N: 64, K: 64, transB: true, f16: false };
    const first = await choosePackedMatmul(ctx, s);
    const records = (await selectorFor(ctx).records()).filter((r) => r.kernel === 'matmul_packed');
    expect(records).toHaveLength(1);
    const eligible = packedVariants(deviceFeatures(ctx), s).eligible.map((v) => v.id);
    expect(eligible).toEqual(expect.arrayContaining(['packed', 'packed-any']));
    // The quad kernel too wherever the device has quads (SwiftShader: subgroups of 4+ lanes).
    expect(eligible.includes('packed-quad')).toBe(!quadUnavailable(deviceFeatures(ctx)));
    expect(records[0].source).toBe('tuned');
    expect(Object.keys(records[0].timings!).sort()).toEqual([...eligible].sort());
    const fastest = Object.entries(records[0].timings!).reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    expect(first.id).toBe(fastest);
  });

  it('a packed variant that reads the weight in the wrong layout is rejected with its reason, never chosen', async () => {
    const ctx = await testContext();
    const s: PackedMatmulShape = { M: 48, N: 40, K: 36, transB: true, f16: false };
    // W stored (N, K) but read as (K, N): the right size, the wrong values.
    const wrong = { id: 'packed' as const, kernel: { ...matmulPackedKernel, overrides: (x: PackedMatmulShape) => ({ ...matmulPackedKernel.overrides!(x), TRANS_B: 0 }), key: () => 'wrong' } };
    const choice = await tune([
      { id: 'wrong', prepare: () => packedTrial(ctx, wrong, s) },
      { id: 'packed-any', prepare: () => packedTrial(ctx, { id: 'packed-any', kernel: matmulPackedAnyKernel }, s) },
    ], { budgetMs: 1 });
    expect(choice.variant).toBe('packed-any');
    expect(choice.rejected!.map((r) => r.id)).toEqual(['wrong']);
    expect(choice.rejected![0].reason).toMatch(/wrong result on the check product: element \d+/);
  });
});
