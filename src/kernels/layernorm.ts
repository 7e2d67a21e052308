// layernorm family: forward (y, mean, rstd), backward dx, backward params (dw, db).
// See shaders/layernorm_forward.wgsl, layernorm_backward.wgsl, layernorm_backward_params.wgsl.
import backwardWgsl from '../../shaders/layernorm_backward.wgsl?raw';
import paramsWgsl from '../../shaders/layernorm_backward_params.wgsl?raw';
import forwardWgsl from '../../shaders/layernorm_forward.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import type { LayernormShape } from '../ref/layernorm';
import { type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, f32, fold2d, u32 } from '../gpu/kernel';

export type { LayernormShape };

type Shape = LayernormShape & FoldOption;

/** Threads per row: wide rows (C ≥ 1024) get more threads; the tree reduction needs a power of two. */
const rowWorkgroup = (s: LayernormShape): number => (s.C >= 1024 ? 256 : 64);
/** Threads per workgroup of the one-thread-per-channel params kernel. */
const PARAMS_WG = 64;

const rows = (s: LayernormShape): number => s.B * s.T;

export const layernormForwardKernel: KernelDescriptor<Shape> = {
  name: 'layernorm_forward',
  wgsl: forwardWgsl,
  bindings: ['dims:uniform', 'x:read', 'w:read', 'b:read', 'y:rw', 'mean:rw', 'rstd:rw'],
  uniforms: (s) => [u32(rows(s)), u32(s.C), f32(s.eps)],
  overrides: (s) => ({ WG: rowWorkgroup(s) }),
  dispatch: (s) => fold2d(rows(s), s.maxGroupsPerDim), // one workgroup per row
  key: (s) => `layernorm_forward/wg${rowWorkgroup(s)}`,
};

export const layernormBackwardKernel: KernelDescriptor<Shape> = {
  name: 'layernorm_backward',
  wgsl: backwardWgsl,
  bindings: ['dims:uniform', 'dy:read', 'x:read', 'w:read', 'mean:read', 'rstd:read', 'dx:rw'],
  uniforms: (s) => [u32(rows(s)), u32(s.C)],
  overrides: (s) => ({ WG: rowWorkgroup(s), ACCUMULATE_DX: s.accumulateDx ? 1 : 0 }),
  dispatch: (s) => fold2d(rows(s), s.maxGroupsPerDim), // one workgroup per row
  key: (s) => `layernorm_backward/wg${rowWorkgroup(s)}${s.accumulateDx ? '/acc' : ''}`,
};

export const layernormBackwardParamsKernel: KernelDescriptor<Shape> = {
  name: 'layernorm_backward_params',
  wgsl: paramsWgsl,
  bindings: ['dims:uniform', 'dy:read', 'x:read', 'mean:read', 'rstd:read', 'dw:rw', 'db:rw'],
  uniforms: (s) => [u32(rows(s)), u32(s.C)],
  overrides: () => ({ WG: PARAMS_WG }),
  dispatch: (s) => flatDispatch(s.C, s, PARAMS_WG), // one thread per channel
  key: () => `layernorm_backward_params/wg${PARAMS_WG}`,
};

export interface LayernormForwardBuffers {
  x: BufferBinding; // (B, T, C)
  w: BufferBinding; // (C)
  b: BufferBinding; // (C)
  y: BufferBinding; // (B, T, C)
  mean: BufferBinding; // (B, T)
  rstd: BufferBinding; // (B, T)
}

export interface LayernormBackwardBuffers {
  dy: BufferBinding; // (B, T, C)
  x: BufferBinding; // (B, T, C)
  w: BufferBinding; // (C)
  mean: BufferBinding; // (B, T)
  rstd: BufferBinding; // (B, T)
  dx: BufferBinding; // (B, T, C)
}

export interface LayernormParamsBuffers {
  dy: BufferBinding; // (B, T, C)
  x: BufferBinding; // (B, T, C)
  mean: BufferBinding; // (B, T)
  rstd: BufferBinding; // (B, T)
  dw: BufferBinding; // (C), accumulated
  db: BufferBinding; // (C), accumulated
}

function checkShape(kernel: string, s: LayernormShape): void {
  checkCount(kernel, 'B', s.B);
  checkCount(kernel, 'T', s.T);
  checkCount(kernel, 'C', s.C);
}

export function prepareLayernormForward(ctx: GpuContext, s: Shape, buf: LayernormForwardBuffers) {
  checkShape('layernorm_forward', s);
  return ctx.prepare(layernormForwardKernel, s, { ...buf });
}

export function prepareLayernormBackward(ctx: GpuContext, s: Shape, buf: LayernormBackwardBuffers) {
  checkShape('layernorm_backward', s);
  return ctx.prepare(layernormBackwardKernel, s, { ...buf });
}

export function prepareLayernormBackwardParams(ctx: GpuContext, s: Shape, buf: LayernormParamsBuffers) {
  checkShape('layernorm_backward_params', s);
  return ctx.prepare(layernormBackwardParamsKernel, s, { ...buf });
}

export async function runLayernormForward(ctx: GpuContext, s: Shape, buf: LayernormForwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareLayernormForward(ctx, s, buf));
}

export async function runLayernormBackward(ctx: GpuContext, s: Shape, buf: LayernormBackwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareLayernormBackward(ctx, s, buf));
}

export async function runLayernormBackwardParams(ctx: GpuContext, s: Shape, buf: LayernormParamsBuffers): Promise<void> {
  submitOnce(ctx, await prepareLayernormBackwardParams(ctx, s, buf));
}
