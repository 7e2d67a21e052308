// layernorm family: forward (y, mean, rstd), backward dx, backward params (dw, db).
// See shaders/layernorm_forward.wgsl, layernorm_backward.wgsl, layernorm_backward_params.wgsl.
import backwardWgsl from '../../shaders/layernorm_backward.wgsl?raw';
import paramsWgsl from '../../shaders/layernorm_backward_params.wgsl?raw';
import forwardWgsl from '../../shaders/layernorm_forward.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import { type LayernormShape, layernormBackward, layernormForward } from '../ref/layernorm';
import { seededUniform } from '../ref/seeded';
import { type RowKernelSpec, chooseRowWorkgroup } from './row_select';
import { type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, f32, fold2d, u32 } from '../gpu/kernel';

export type { LayernormShape };

type Shape = LayernormShape & FoldOption;
/** `wg`: the workgroup size this device chose (row_select.ts); without it, the size by row width. */
type RowShape = Shape & { wg?: number };

/** Threads per row: wide rows (C ≥ 1024) get more threads; the tree reduction needs a power of two. */
const rowWorkgroup = (s: RowShape): number => s.wg ?? (s.C >= 1024 ? 256 : 64);
/** Threads per workgroup of the one-thread-per-channel params kernel. */
const PARAMS_WG = 64;

const rows = (s: LayernormShape): number => s.B * s.T;

export const layernormForwardKernel: KernelDescriptor<RowShape> = {
  name: 'layernorm_forward',
  wgsl: forwardWgsl,
  bindings: ['dims:uniform', 'x:read', 'w:read', 'b:read', 'y:rw', 'mean:rw', 'rstd:rw'],
  uniforms: (s) => [u32(rows(s)), u32(s.C), f32(s.eps)],
  overrides: (s) => ({ WG: rowWorkgroup(s) }),
  dispatch: (s) => fold2d(rows(s), s.maxGroupsPerDim), // one workgroup per row
  key: (s) => `layernorm_forward/wg${rowWorkgroup(s)}`,
};

export const layernormBackwardKernel: KernelDescriptor<RowShape> = {
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

const rowsOf = (s: Shape, n: number): Shape => ({ ...s, B: 1, T: Math.min(s.B * s.T, n) });
const data = (n: number, seed: number, scale = 1) => seededUniform(n, seed).map((v) => v * scale);

/** What the per-device workgroup choice checks and times (row_select.ts). */
export const layernormForwardRows: RowKernelSpec<Shape> = {
  name: 'layernorm_forward', kernel: layernormForwardKernel, rowLength: (s) => s.C, withRows: rowsOf,
  inputs: (s) => {
    const n = s.B * s.T;
    return { x: data(n * s.C, 1, 3), w: data(s.C, 2), b: data(s.C, 3), y: new Float32Array(n * s.C), mean: new Float32Array(n), rstd: new Float32Array(n) };
  },
  reference: (s, d) => {
    const n = s.B * s.T;
    const out = { y: new Float32Array(n * s.C), mean: new Float32Array(n), rstd: new Float32Array(n) };
    layernormForward(out.y, out.mean, out.rstd, d.x, d.w, d.b, s);
    return out;
  },
  tolerance: { atol: 1e-5, rtol: 1e-4 },
};

export const layernormBackwardRows: RowKernelSpec<Shape> = {
  name: 'layernorm_backward', kernel: layernormBackwardKernel, rowLength: (s) => s.C, withRows: rowsOf,
  inputs: (s) => {
    const n = s.B * s.T;
    const x = data(n * s.C, 4, 3), w = data(s.C, 5), mean = new Float32Array(n), rstd = new Float32Array(n);
    layernormForward(new Float32Array(n * s.C), mean, rstd, x, w, data(s.C, 6), s);
    return { dy: data(n * s.C, 7), x, w, mean, rstd, dx: data(n * s.C, 8) };
  },
  reference: (s, d) => {
    const dx = Float32Array.from(d.dx);
    layernormBackward(dx, d.dy, d.x, d.w, d.mean, d.rstd, s);
    return { dx };
  },
  tolerance: { atol: 1e-4, rtol: 1e-3 },
};

export async function prepareLayernormForward(ctx: GpuContext, s: Shape, buf: LayernormForwardBuffers) {
  checkShape('layernorm_forward', s);
  const wg = await chooseRowWorkgroup(ctx, layernormForwardRows, s);
  return ctx.prepare(layernormForwardKernel, { ...s, wg }, { ...buf });
}

export async function prepareLayernormBackward(ctx: GpuContext, s: Shape, buf: LayernormBackwardBuffers) {
  checkShape('layernorm_backward', s);
  const wg = await chooseRowWorkgroup(ctx, layernormBackwardRows, s);
  return ctx.prepare(layernormBackwardKernel, { ...s, wg }, { ...buf });
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
