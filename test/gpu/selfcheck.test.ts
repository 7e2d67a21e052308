// The self-check's report of kernel choices (what the Device panel lists): one line per reported product,
// each with its shape class, the variant the device runs for it, where the choice came from, and GFLOP/s.
import { describe, expect, it } from 'vitest';
import { deviceFeatures } from '../../src/gpu/features';
import { matmulVariant } from '../../src/kernels/matmul';
import { REPORTED_PRODUCTS } from '../../src/kernels/matmul_select';
import { matmulShapeClass, shippedMatmulVariant } from '../../src/kernels/matmul_variants';
import { REPORTED_PACKED_PRODUCTS, packedShapeClass, shippedPackedVariant } from '../../src/kernels/packed_variants';
import { runSelfCheck } from '../../src/worker/selfcheck';
import { testContext } from '../helpers/gpu';

describe('self-check kernel choices (Device panel)', () => {
  it('names the variant and speed of every reported shape class; on SwiftShader the shipped ones', async () => {
    const r = await runSelfCheck();
    expect(r.checks.every((c) => c.ok)).toBe(true);
    const features = deviceFeatures(await testContext());
    const want = [
      ...REPORTED_PRODUCTS.map((p) => ({ shapeClass: matmulShapeClass(p.shape), variant: shippedMatmulVariant(p.shape, features) })),
      ...REPORTED_PACKED_PRODUCTS.map((p) => ({ shapeClass: packedShapeClass(p.shape), variant: shippedPackedVariant(p.shape, features) })),
    ];
    expect(r.kernelChoices.map((k) => ({ shapeClass: k.shapeClass, variant: k.variant }))).toEqual(want);
    for (const k of r.kernelChoices) {
      expect(k.source).toBe('built-in');
      expect(Number.isFinite(k.gflops) && k.gflops > 0).toBe(true);
    }
    // The kernel check rows name the kernel that actually ran.
    expect(r.checks[0].kernel).toBe(matmulVariant({ M: 45, N: 68, K: 32, hasBias: false }).key({ M: 45, N: 68, K: 32, hasBias: false }));
  });
});
