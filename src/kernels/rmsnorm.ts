// rmsnorm family (Llama, Mistral, Qwen2, Qwen3): forward (y, rstd), backward dx, backward params (dw).
// Serves both the hidden-state norms (rows = B·T, C = hidden_size) and Qwen3's per-head q/k norms
// (rows = B·T·NH, C = HS). See shaders/rmsnorm_forward.wgsl, rmsnorm_backward.wgsl,
// rmsnorm_backward_params.wgsl and src/ref/rmsnorm.ts.
import backwardWgsl from '../../shaders/rmsnorm_backward.wgsl?raw';
import paramsWgsl from '../../shaders/rmsnorm_backward_params.wgsl?raw';
import forwardWgsl from '../../shaders/rmsnorm_forward.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type RmsnormShape, rmsnormBackward, rmsnormForward } from '../ref/rmsnorm';
import { seededUniform } from '../ref/seeded';
import { type RowKernelSpec, chooseRowWorkgroup } from './row_select';
import { type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, f32, fold2d, u32, withLib } from '../gpu/kernel';

export type { RmsnormShape };

type Shape = RmsnormShape & FoldOption;
/** `wg`: the workgroup size this device chose (row_select.ts); without it, the size by row width. */
type RowShape = Shape & { wg?: number };

/** Threads per row: wide rows get more threads; per-head rows (HS ≤ 256) need few. Power of two for the tree. */
const rowWorkgroup = (s: RowShape): number => s.wg ?? (s.C >= 1024 ? 256 : s.C > 32 ? 64 : 32);
/** Threads per workgroup of the one-thread-per-channel params kernel. */
const PARAMS_WG = 64;

export const rmsnormForwardKernel: KernelDescriptor<RowShape> = {
  name: 'rmsnorm_forward',
  wgsl: withLib(forwardWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'x:read', 'w:read', 'y:rw', 'rstd:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.C), f32(s.eps)],
  overrides: (s) => ({ WG: rowWorkgroup(s) }),
  dispatch: (s) => fold2d(s.rows, s.maxGroupsPerDim), // one workgroup per row
  key: (s) => `rmsnorm_forward/wg${rowWorkgroup(s)}`,
};

export const rmsnormBackwardKernel: KernelDescriptor<RowShape> = {
  name: 'rmsnorm_backward',
  wgsl: withLib(backwardWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'dy:read', 'x:read', 'w:read', 'rstd:read', 'dx:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.C)],
  overrides: (s) => ({ WG: rowWorkgroup(s), ACCUMULATE_DX: s.accumulateDx ? 1 : 0 }),
  dispatch: (s) => fold2d(s.rows, s.maxGroupsPerDim), // one workgroup per row
  key: (s) => `rmsnorm_backward/wg${rowWorkgroup(s)}${s.accumulateDx ? '/acc' : ''}`,
};

export const rmsnormBackwardParamsKernel: KernelDescriptor<Shape> = {
  name: 'rmsnorm_backward_params',
  wgsl: paramsWgsl,
  bindings: ['dims:uniform', 'dy:read', 'x:read', 'rstd:read', 'dw:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.C)],
  overrides: () => ({ WG: PARAMS_WG }),
  dispatch: (s) => flatDispatch(s.C, s, PARAMS_WG), // one thread per channel
  key: () => `rmsnorm_backward_params/wg${PARAMS_WG}`,
};

export interface RmsnormForwardBuffers {
  x: BufferBinding; // (rows, C)
  w: BufferBinding; // (C)
  y: BufferBinding; // (rows, C)
  rstd: BufferBinding; // (rows), cached for the backward
}

export interface RmsnormBackwardBuffers {
  dy: BufferBinding; // (rows, C)
  x: BufferBinding; // (rows, C), the forward's input
  w: BufferBinding; // (C)
  rstd: BufferBinding; // (rows), the forward's cache
  dx: BufferBinding; // (rows, C)
}

export interface RmsnormParamsBuffers {
  dy: BufferBinding; // (rows, C)
  x: BufferBinding; // (rows, C)
  rstd: BufferBinding; // (rows)
  dw: BufferBinding; // (C), accumulated
}

function checkShape(kernel: string, s: RmsnormShape): void {
  checkCount(kernel, 'rows', s.rows);
  checkCount(kernel, 'C', s.C);
  if (s.rows * s.C >= 2 ** 32) throw new KernelShapeError(`${kernel}: rows·C=${s.rows * s.C} overflows u32 indices`);
}

const rowsOf = (s: Shape, n: number): Shape => ({ ...s, rows: Math.min(s.rows, n) });
const data = (n: number, seed: number, scale = 1) => seededUniform(n, seed).map((v) => v * scale);

/** What the per-device workgroup choice checks and times (row_select.ts). */
export const rmsnormForwardRows: RowKernelSpec<Shape> = {
  name: 'rmsnorm_forward', kernel: rmsnormForwardKernel, rowLength: (s) => s.C, withRows: rowsOf,
  inputs: (s) => ({ x: data(s.rows * s.C, 1, 3), w: data(s.C, 2), y: new Float32Array(s.rows * s.C), rstd: new Float32Array(s.rows) }),
  reference: (s, d) => {
    const out = { y: new Float32Array(s.rows * s.C), rstd: new Float32Array(s.rows) };
    rmsnormForward(out.y, out.rstd, d.x, d.w, s);
    return out;
  },
  tolerance: { atol: 1e-5, rtol: 1e-4 },
};

export const rmsnormBackwardRows: RowKernelSpec<Shape> = {
  name: 'rmsnorm_backward', kernel: rmsnormBackwardKernel, rowLength: (s) => s.C, withRows: rowsOf,
  inputs: (s) => {
    const x = data(s.rows * s.C, 4, 3), w = data(s.C, 5), rstd = new Float32Array(s.rows);
    rmsnormForward(new Float32Array(s.rows * s.C), rstd, x, w, s);
    return { dy: data(s.rows * s.C, 7), x, w, rstd, dx: data(s.rows * s.C, 8) };
  },
  reference: (s, d) => {
    const dx = Float32Array.from(d.dx);
    rmsnormBackward(dx, d.dy, d.x, d.w, d.rstd, s);
    return { dx };
  },
  tolerance: { atol: 1e-4, rtol: 1e-3 },
};

export async function prepareRmsnormForward(ctx: GpuContext, s: Shape, buf: RmsnormForwardBuffers) {
  checkShape('rmsnorm_forward', s);
  const wg = await chooseRowWorkgroup(ctx, rmsnormForwardRows, s);
  return ctx.prepare(rmsnormForwardKernel, { ...s, wg }, { ...buf });
}

export async function prepareRmsnormBackward(ctx: GpuContext, s: Shape, buf: RmsnormBackwardBuffers) {
  checkShape('rmsnorm_backward', s);
  const wg = await chooseRowWorkgroup(ctx, rmsnormBackwardRows, s);
  return ctx.prepare(rmsnormBackwardKernel, { ...s, wg }, { ...buf });
}

export function prepareRmsnormBackwardParams(ctx: GpuContext, s: Shape, buf: RmsnormParamsBuffers) {
  checkShape('rmsnorm_backward_params', s);
  return ctx.prepare(rmsnormBackwardParamsKernel, s, { ...buf });
}

export async function runRmsnormForward(ctx: GpuContext, s: Shape, buf: RmsnormForwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareRmsnormForward(ctx, s, buf));
}

export async function runRmsnormBackward(ctx: GpuContext, s: Shape, buf: RmsnormBackwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareRmsnormBackward(ctx, s, buf));
}

export async function runRmsnormBackwardParams(ctx: GpuContext, s: Shape, buf: RmsnormParamsBuffers): Promise<void> {
  submitOnce(ctx, await prepareRmsnormBackwardParams(ctx, s, buf));
}
