// gradnorm family: global L2 norm of several gradient tensors and the clip_grad_norm_ coefficient,
// in two deterministic passes (per-chunk partial sums, then one workgroup sums them).
// See shaders/gradnorm_partial.wgsl and shaders/gradnorm_finalize.wgsl.
import finalizeWgsl from '../../shaders/gradnorm_finalize.wgsl?raw';
import partialWgsl from '../../shaders/gradnorm_partial.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { GradNormFinalizeShape, GradNormPartialShape } from '../ref/gradnorm';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32 } from '../gpu/kernel';

export type { GradNormFinalizeShape, GradNormPartialShape };

const WG = 256;
const PER_THREAD = 4;
/** Elements summed into one partial. */
export const GRADNORM_CHUNK = WG * PER_THREAD;

export const gradnormPartialKernel: KernelDescriptor<GradNormPartialShape> = {
  name: 'gradnorm_partial',
  wgsl: partialWgsl,
  bindings: ['dims:uniform', 'x:read', 'partials:rw'],
  uniforms: (s) => [u32(s.n), u32(s.xOffset), u32(s.partialOffset)],
  overrides: () => ({ WG, PER_THREAD }),
  dispatch: (s) => fold2d(ceilDiv(s.n, GRADNORM_CHUNK), s.maxWorkgroupsPerDim),
  key: () => `gradnorm_partial/wg${WG}/pt${PER_THREAD}`,
};

export const gradnormFinalizeKernel: KernelDescriptor<GradNormFinalizeShape> = {
  name: 'gradnorm_finalize',
  wgsl: finalizeWgsl,
  bindings: ['dims:uniform', 'partials:read', 'out:rw'],
  uniforms: (s) => [u32(s.count), f32(s.maxNorm)],
  overrides: () => ({ WG }),
  dispatch: () => [1, 1, 1],
  key: () => `gradnorm_finalize/wg${WG}`,
};

/** A gradient tensor: n elements of x starting at element xOffset (any offset, no alignment). */
export interface GradTensor {
  x: BufferBinding;
  n: number;
  xOffset?: number;
}

/** Number of partial sums (f32) a partials buffer needs for these tensors. */
export function gradnormPartialCount(lengths: readonly number[]): number {
  return lengths.reduce((s, n) => s + ceilDiv(n, GRADNORM_CHUNK), 0);
}

/**
 * One partial launch per tensor (disjoint partial ranges), then the finalize launch; submit them in
 * one pass, in order. out receives [‖g‖₂, min(1, maxNorm / (‖g‖₂ + 1e-6))].
 */
export async function prepareGradNorm(
  ctx: GpuContext, tensors: readonly GradTensor[], maxNorm: number,
  buf: { partials: GPUBuffer; out: GPUBuffer }, maxWorkgroupsPerDim?: number,
): Promise<Launch[]> {
  const count = gradnormPartialCount(tensors.map((t) => t.n));
  if (tensors.length === 0) throw new KernelShapeError('gradnorm: no tensors given');
  if (count * 4 > buf.partials.size) {
    throw new KernelShapeError(`gradnorm: ${count} partials need ${count * 4} bytes, buffer has ${buf.partials.size}`);
  }
  if (buf.out.size < 8) throw new KernelShapeError(`gradnorm: out needs 8 bytes, has ${buf.out.size}`);
  const launches: Launch[] = [];
  let partialOffset = 0;
  for (const t of tensors) {
    if (!Number.isInteger(t.n) || t.n < 1) throw new KernelShapeError(`gradnorm: tensor length n=${t.n} must be ≥ 1`);
    const s = { n: t.n, xOffset: t.xOffset ?? 0, partialOffset, chunk: GRADNORM_CHUNK, maxWorkgroupsPerDim };
    launches.push(await ctx.prepare(gradnormPartialKernel, s, { x: t.x, partials: buf.partials }));
    partialOffset += ceilDiv(t.n, GRADNORM_CHUNK);
  }
  launches.push(await ctx.prepare(gradnormFinalizeKernel, { count, maxNorm }, buf));
  return launches;
}

export async function runGradNorm(
  ctx: GpuContext, tensors: readonly GradTensor[], maxNorm: number,
  buf: { partials: GPUBuffer; out: GPUBuffer }, maxWorkgroupsPerDim?: number,
): Promise<void> {
  const launches = await prepareGradNorm(ctx, tensors, maxNorm, buf, maxWorkgroupsPerDim);
  ctx.submit(launches, 'gradnorm');
  for (const l of launches) l.destroy();
}
