// The engine self-check: acquire the device (inside the worker, as training will), run the matmul
// kernel on a seeded problem, compare with the CPU reference, and time it. Pure engine code, no DOM.
import { getDevice } from '../gpu/device';
import { prepareMatmul } from '../kernels/matmul';
import { type MatmulChoiceReport, reportMatmulChoices } from '../kernels/matmul_select';
import { reportPackedChoices } from '../kernels/packed_variants';
import { matmul, type MatmulShape } from '../ref/matmul';
import { seededUniform } from '../ref/seeded';

export interface SelfCheckResult {
  adapter: string;
  hasF16: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupStorageSize: number };
  checks: { name: string; kernel: string; maxAbsDiff: number; ok: boolean }[];
  gflops: number;
  /** The matmul variant this device runs per shape class, and its speed (docs/kernels.md#selection). */
  kernelChoices: MatmulChoiceReport[];
}

export async function runSelfCheck(): Promise<SelfCheckResult> {
  const ctx = await getDevice({ label: 'selfcheck' });
  try {
    const shapes: [string, MatmulShape][] = [
      ['x·W (Conv1D layout)', { M: 45, N: 68, K: 32 }],
      ['x·Wᵀ (Linear layout), ragged', { M: 45, N: 65, K: 33, transB: true }],
      ['xᵀ·dy (weight gradient)', { M: 48, N: 64, K: 13, transA: true }],
    ];
    const checks: SelfCheckResult['checks'] = [];
    for (const [name, s] of shapes) {
      const a = seededUniform(s.M * s.K, 1);
      const b = seededUniform(s.K * s.N, 2);
      const want = new Float32Array(s.M * s.N);
      matmul(want, a, b, null, s);
      const c = ctx.createBuffer('c', want.byteLength);
      const launch = await prepareMatmul(ctx, s, { a: ctx.upload('a', a), b: ctx.upload('b', b), c });
      ctx.submit([launch]);
      launch.destroy();
      const got = await ctx.readF32(c, want.length);
      let maxAbsDiff = 0;
      for (let i = 0; i < want.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - want[i]));
      checks.push({ name, kernel: launch.label, maxAbsDiff, ok: maxAbsDiff < 1e-4 });
    }
    const s: MatmulShape = { M: 256, N: 256, K: 256 };
    const c = ctx.createBuffer('c', s.M * s.N * 4);
    const launch = await prepareMatmul(ctx, s, { a: ctx.upload('a', seededUniform(65536, 3)), b: ctx.upload('b', seededUniform(65536, 4)), c });
    ctx.submit([launch]);
    await ctx.finish();
    const t0 = performance.now();
    ctx.submit(Array(5).fill(launch));
    await ctx.finish();
    const gflops = (5 * 2 * 256 ** 3) / ((performance.now() - t0) * 1e6);
    const kernelChoices = [...await reportMatmulChoices(ctx), ...await reportPackedChoices(ctx)];
    const l = ctx.limits;
    return {
      adapter: ctx.describe(), hasF16: ctx.hasF16, checks, gflops, kernelChoices,
      limits: { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize },
    };
  } finally {
    ctx.destroy();
  }
}
