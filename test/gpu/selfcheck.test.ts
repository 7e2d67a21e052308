// The self-check's report of kernel choices (what the Device panel lists): one line per reported product,
// each with its shape class, the variant the device runs for it, where the choice came from, and GFLOP/s.
import { describe, expect, it } from 'vitest';
import { matmulVariant } from '../../src/kernels/matmul';
import { REPORTED_PRODUCTS } from '../../src/kernels/matmul_select';
import { matmulShapeClass, shippedMatmulVariant } from '../../src/kernels/matmul_variants';
import { runSelfCheck } from '../../src/worker/selfcheck';

describe('self-check kernel choices (Device panel)', () => {
  it('names the variant and speed of every reported shape class; on SwiftShader the shipped ones', async () => {
    const r = await runSelfCheck();
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.kernelChoices.map((k) => k.shapeClass)).toEqual(REPORTED_PRODUCTS.map((p) => matmulShapeClass(p.shape)));
    for (const [i, k] of r.kernelChoices.entries()) {
      expect(k.source).toBe('built-in');
      expect(k.variant).toBe(shippedMatmulVariant(REPORTED_PRODUCTS[i].shape));
      expect(Number.isFinite(k.gflops) && k.gflops > 0).toBe(true);
    }
    // The kernel check rows name the kernel that actually ran.
    expect(r.checks[0].kernel).toBe(matmulVariant({ M: 45, N: 68, K: 32, hasBias: false }).key({ M: 45, N: 68, K: 32, hasBias: false }));
  });
});
