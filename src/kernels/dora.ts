// dora family: DoRA around the LoRA product, norm detached (DoRA §4.3). See src/ref/dora.ts.
// Forward: norm = ‖W + s·B·A‖ per row (dora_row_norm.wgsl); h, z = x·Wᵀ + s·h·Bᵀ without bias (lora
// family); y = (m/norm)·z + bias (dora_scale.wgsl). Backward: dz, dm (dora_scale_backward.wgsl), then
// the LoRA backward with dy := dz gives dA, dB, dx.
import doraRowNormWgsl from '../../shaders/dora_row_norm.wgsl?raw';
import doraScaleWgsl from '../../shaders/dora_scale.wgsl?raw';
import doraScaleBackwardWgsl from '../../shaders/dora_scale_backward.wgsl?raw';
import doraRowNormSumWgsl from '../../shaders/lib/dora_row_norm_sum.wgsl?raw';
import type { GpuContext, Launch } from '../gpu/context';
import type { DoraScaleShape, DoraWeightShape } from '../ref/dora';
import type { FoldOption } from './elementwise';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32, withLib } from '../gpu/kernel';
import { type WeightFormat, doraRowNormPackedKernel, isPackedFormat } from './packed';
import { type LoraBackwardBuffers, type LoraShape, checkLoraShape, prepareLoraBackward, prepareLoraForward } from './lora';

export type { DoraScaleShape, DoraWeightShape };

const WG = 64;
const layout = (s: DoraWeightShape) => (s.conv1d ? 'conv1d' : 'linear');

export const doraRowNormKernel: KernelDescriptor<DoraWeightShape & FoldOption> = {
  name: 'dora_row_norm',
  wgsl: withLib(doraRowNormWgsl, doraRowNormSumWgsl),
  bindings: ['dims:uniform', 'w:read', 'lora_a:read', 'lora_b:read', 'norm:rw'],
  uniforms: (s) => [u32(s.IN), u32(s.OUT), u32(s.R), f32(s.scale)],
  overrides: (s) => ({ WG, CONV1D: s.conv1d ? 1 : 0 }),
  dispatch: (s) => fold2d(ceilDiv(s.OUT, WG), s.maxGroupsPerDim),
  key: (s) => `dora_row_norm/wg${WG}/${layout(s)}`,
};

export const doraScaleKernel: KernelDescriptor<DoraScaleShape & { hasBias: boolean } & FoldOption> = {
  name: 'dora_scale',
  wgsl: doraScaleWgsl,
  bindings: ['dims:uniform', 'z:read', 'm:read', 'norm:read', 'bias:read', 'y:rw'],
  uniforms: (s) => [u32(s.N), u32(s.OUT)],
  overrides: (s) => ({ WG, HAS_BIAS: s.hasBias ? 1 : 0 }),
  dispatch: (s) => fold2d(ceilDiv(s.N * s.OUT, WG), s.maxGroupsPerDim),
  key: (s) => `dora_scale/wg${WG}${s.hasBias ? '/bias' : ''}`,
};

export const doraScaleBackwardKernel: KernelDescriptor<DoraScaleShape & FoldOption> = {
  name: 'dora_scale_backward',
  wgsl: doraScaleBackwardWgsl,
  bindings: ['dims:uniform', 'dy:read', 'z:read', 'm:read', 'norm:read', 'dz:rw', 'dm:rw'],
  uniforms: (s) => [u32(s.N), u32(s.OUT)],
  overrides: () => ({ WG }),
  dispatch: (s) => fold2d(ceilDiv(s.OUT, WG), s.maxGroupsPerDim),
  key: () => `dora_scale_backward/wg${WG}`,
};

export interface DoraForwardBuffers {
  x: GPUBuffer;     // (N, IN)
  w: GPUBuffer;     // (OUT, IN), or (IN, OUT) for Conv1D; frozen
  bias?: GPUBuffer; // (OUT); frozen, not rescaled
  loraA: GPUBuffer; // (R, IN)
  loraB: GPUBuffer; // (OUT, R)
  m: GPUBuffer;     // (OUT) magnitude
  norm: GPUBuffer;  // (OUT), written and cached (detached)
  h: GPUBuffer;     // (N, R), written and cached
  z: GPUBuffer;     // (N, OUT) = x·Wᵀ + s·h·Bᵀ, written and cached
  y: GPUBuffer;     // (N, OUT), written `=`
}

export interface DoraBackwardBuffers extends Omit<LoraBackwardBuffers, 'dy'> {
  m: GPUBuffer;
  norm: GPUBuffer; // from the forward
  z: GPUBuffer;    // from the forward
  dy: GPUBuffer;   // (N, OUT)
  dz: GPUBuffer;   // (N, OUT) scratch, written `=`
  dm: GPUBuffer;   // (OUT), accumulated
}

export async function prepareDoraRowNorm(
  ctx: GpuContext, s: DoraWeightShape & { wFormat?: WeightFormat }, buf: { w: GPUBuffer; loraA: GPUBuffer; loraB: GPUBuffer; norm: GPUBuffer },
): Promise<Launch> {
  checkLoraShape({ ...s, N: 1 });
  const bufs = { w: buf.w, lora_a: buf.loraA, lora_b: buf.loraB, norm: buf.norm };
  if (isPackedFormat(s.wFormat)) return ctx.prepare(doraRowNormPackedKernel, { ...s, f16: s.wFormat === 'f16' }, bufs);
  return ctx.prepare(doraRowNormKernel, s, bufs);
}

/** [norm, h, z, y] in dependency order. Without a bias, z stands in for the unused binding. */
export async function prepareDoraForward(ctx: GpuContext, s: LoraShape, buf: DoraForwardBuffers): Promise<Launch[]> {
  return [
    await prepareDoraRowNorm(ctx, s, buf),
    ...await prepareLoraForward(ctx, s, { ...buf, bias: undefined, y: buf.z }),
    await ctx.prepare(doraScaleKernel, { N: s.N, OUT: s.OUT, hasBias: !!buf.bias }, {
      z: buf.z, m: buf.m, norm: buf.norm, bias: buf.bias ?? buf.z, y: buf.y,
    }),
  ];
}

/** [dz & dm, dB, dh, dA, dx]. dm, dA, dB accumulate (`+=`); dx is `=` unless accumulateDx. */
export async function prepareDoraBackward(
  ctx: GpuContext, s: LoraShape, buf: DoraBackwardBuffers, opts: { accumulateDx?: boolean } = {},
): Promise<Launch[]> {
  checkLoraShape(s);
  return [
    await ctx.prepare(doraScaleBackwardKernel, { N: s.N, OUT: s.OUT }, {
      dy: buf.dy, z: buf.z, m: buf.m, norm: buf.norm, dz: buf.dz, dm: buf.dm,
    }),
    ...await prepareLoraBackward(ctx, s, { ...buf, dy: buf.dz }, opts),
  ];
}
