// adamw family: one fused AdamW step per parameter group. See shaders/adamw.wgsl.
import adamwWgsl from '../../shaders/adamw.wgsl?raw';
import type { GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type AdamWGroup, type AdamWHyper, type AdamWShape, adamwScalars } from '../ref/adamw';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32 } from '../gpu/kernel';

export type { AdamWGroup, AdamWHyper, AdamWShape };

const WG = 256;

export const adamwKernel: KernelDescriptor<AdamWShape> = {
  name: 'adamw',
  wgsl: adamwWgsl,
  bindings: ['dims:uniform', 'param:rw', 'm:rw', 'v:rw', 'grad:read'],
  uniforms: (s) => {
    const { decay, stepSize, bc2Sqrt } = adamwScalars(s);
    return [u32(s.n), u32(s.offset), f32(decay), f32(stepSize), f32(bc2Sqrt),
      f32(s.beta1), f32(s.beta2), f32(s.eps), f32(s.gradScale ?? 1), f32(1 - s.beta1), f32(1 - s.beta2)];
  },
  overrides: () => ({ WG }),
  dispatch: (s) => fold2d(ceilDiv(s.n, WG), s.maxWorkgroupsPerDim),
  key: () => `adamw/wg${WG}`,
};

export interface AdamWBuffers {
  param: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  grad: GPUBuffer;
}

/** Groups must be in range of every buffer, positive-length and non-overlapping. */
export function checkAdamWGroups(groups: readonly AdamWGroup[], h: AdamWHyper, buf: AdamWBuffers): void {
  const elems = Math.min(buf.param.size, buf.m.size, buf.v.size, buf.grad.size) / 4;
  if (!Number.isInteger(h.t) || h.t < 1) throw new KernelShapeError(`adamw: step t=${h.t} must be an integer ≥ 1`);
  const sorted = [...groups].sort((a, b) => a.offset - b.offset);
  sorted.forEach((g, k) => {
    if (!Number.isInteger(g.offset) || g.offset < 0 || !Number.isInteger(g.length) || g.length < 1) {
      throw new KernelShapeError(`adamw: group offset=${g.offset} length=${g.length} must be integers, length ≥ 1`);
    }
    if (g.offset + g.length > elems) {
      throw new KernelShapeError(`adamw: group [${g.offset}, ${g.offset + g.length}) exceeds the ${elems} elements of the smallest buffer`);
    }
    const next = sorted[k + 1];
    if (next && next.offset < g.offset + g.length) {
      throw new KernelShapeError(`adamw: groups at offsets ${g.offset} and ${next.offset} overlap`);
    }
  });
}

/** One launch per group. Uniforms hold t-dependent scalars, so prepare again every step. */
export async function prepareAdamW(
  ctx: GpuContext, groups: readonly AdamWGroup[], h: AdamWHyper, buf: AdamWBuffers, maxWorkgroupsPerDim?: number,
): Promise<Launch[]> {
  checkAdamWGroups(groups, h, buf);
  const launches: Launch[] = [];
  for (const g of groups) {
    const shape: AdamWShape = { ...h, n: g.length, offset: g.offset, lr: g.lr, weightDecay: g.weightDecay, maxWorkgroupsPerDim };
    launches.push(await ctx.prepare(adamwKernel, shape, { ...buf }));
  }
  return launches;
}

export async function runAdamW(
  ctx: GpuContext, groups: readonly AdamWGroup[], h: AdamWHyper, buf: AdamWBuffers, maxWorkgroupsPerDim?: number,
): Promise<void> {
  const launches = await prepareAdamW(ctx, groups, h, buf, maxWorkgroupsPerDim);
  ctx.submit(launches, 'adamw');
  for (const l of launches) l.destroy();
}
