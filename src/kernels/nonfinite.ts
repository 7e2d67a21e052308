// nonfinite family: count NaN/±Inf elements and the first offending index over one or several
// tensors. See shaders/nonfinite_count.wgsl.
import nonfiniteWgsl from '../../shaders/nonfinite_count.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { NO_INDEX, type NonfiniteShape } from '../ref/nonfinite';
import { type KernelDescriptor, ceilDiv, fold2d, u32 } from '../gpu/kernel';

export type { NonfiniteShape };
export { NO_INDEX };

const WG = 256;

export const nonfiniteCountKernel: KernelDescriptor<NonfiniteShape> = {
  name: 'nonfinite_count',
  wgsl: nonfiniteWgsl,
  bindings: ['dims:uniform', 'x:read', 'result:rw'],
  uniforms: (s) => [u32(s.n), u32(s.xOffset), u32(s.indexBase)],
  overrides: () => ({ WG }),
  dispatch: (s) => fold2d(ceilDiv(s.n, WG), s.maxWorkgroupsPerDim),
  key: () => `nonfinite_count/wg${WG}`,
};

/** A tensor to scan: n elements of x from element xOffset. */
export interface ScanTensor {
  x: BufferBinding;
  n: number;
  xOffset?: number;
}

/** Queues result = [0, NO_INDEX]; do it before the first scan of a step. */
export function resetNonfinite(ctx: GpuContext, result: GPUBuffer): void {
  ctx.write(result, Uint32Array.of(0, NO_INDEX));
}

/** One launch per tensor; tensor k's indices start at the sum of the previous lengths. */
export async function prepareNonfinite(
  ctx: GpuContext, tensors: readonly ScanTensor[], result: GPUBuffer, maxWorkgroupsPerDim?: number,
): Promise<Launch[]> {
  if (result.size < 8) throw new KernelShapeError(`nonfinite: result needs 8 bytes, has ${result.size}`);
  const launches: Launch[] = [];
  let indexBase = 0;
  for (const t of tensors) {
    if (!Number.isInteger(t.n) || t.n < 1) throw new KernelShapeError(`nonfinite: tensor length n=${t.n} must be ≥ 1`);
    const s = { n: t.n, xOffset: t.xOffset ?? 0, indexBase, maxWorkgroupsPerDim };
    launches.push(await ctx.prepare(nonfiniteCountKernel, s, { x: t.x, result }));
    indexBase += t.n;
  }
  return launches;
}

/** Resets result, scans every tensor, and reads back { count, first } (first = NO_INDEX when none). */
export async function countNonfinite(
  ctx: GpuContext, tensors: readonly ScanTensor[], result: GPUBuffer, maxWorkgroupsPerDim?: number,
): Promise<{ count: number; first: number }> {
  const launches = await prepareNonfinite(ctx, tensors, result, maxWorkgroupsPerDim);
  resetNonfinite(ctx, result);
  ctx.submit(launches, 'nonfinite');
  for (const l of launches) l.destroy();
  const [count, first] = await ctx.readU32(result, 2);
  return { count, first };
}
