// elementwise family: out = a + b (or out += b), x ← alpha·x, y ← y + alpha·x.
// See shaders/elementwise_*.wgsl. Also home of the one-thread-per-element dispatch that gelu shares.
import addWgsl from '../../shaders/elementwise_add.wgsl?raw';
import axpyWgsl from '../../shaders/elementwise_axpy.wgsl?raw';
import scaleWgsl from '../../shaders/elementwise_scale.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { ElementwiseShape } from '../ref/elementwise';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32 } from '../gpu/kernel';

export type { ElementwiseShape };

/** Threads per workgroup of the one-thread-per-element kernels. */
export const FLAT_WG = 256;

export interface FoldOption {
  /** Workgroups per dispatch axis before folding into y (default 65535); tests lower it to reach the fold. */
  maxGroupsPerDim?: number;
}

/** One thread per element, folded so that no axis exceeds the limit (shaders mask the overshoot). */
export function flatDispatch(n: number, s: FoldOption, wg = FLAT_WG): [number, number, number] {
  return fold2d(ceilDiv(n, wg), s.maxGroupsPerDim);
}

export function checkCount(kernel: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new KernelShapeError(`${kernel}: ${what}=${v} must be a positive integer`);
}

export type AddShape = ElementwiseShape & FoldOption & { inPlace?: boolean };
export type ScaleShape = ElementwiseShape & FoldOption;

export const elementwiseAddKernel: KernelDescriptor<AddShape> = {
  name: 'elementwise_add',
  wgsl: addWgsl,
  bindings: ['dims:uniform', 'a:read', 'b:read', 'out:rw'],
  uniforms: (s) => [u32(s.n)],
  overrides: (s) => ({ WG: FLAT_WG, IN_PLACE: s.inPlace ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: (s) => `elementwise_add/wg${FLAT_WG}${s.inPlace ? '/inplace' : ''}`,
};

export const elementwiseScaleKernel: KernelDescriptor<ScaleShape> = {
  name: 'elementwise_scale',
  wgsl: scaleWgsl,
  bindings: ['dims:uniform', 'x:rw'],
  uniforms: (s) => [u32(s.n), f32(s.alpha ?? 1)],
  overrides: () => ({ WG: FLAT_WG }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: () => `elementwise_scale/wg${FLAT_WG}`,
};

export const elementwiseAxpyKernel: KernelDescriptor<ScaleShape> = {
  name: 'elementwise_axpy',
  wgsl: axpyWgsl,
  bindings: ['dims:uniform', 'x:read', 'y:rw'],
  uniforms: (s) => [u32(s.n), f32(s.alpha ?? 1)],
  overrides: () => ({ WG: FLAT_WG }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: () => `elementwise_axpy/wg${FLAT_WG}`,
};

export interface AddBuffers {
  /** Left operand; omit it to add in place (out += b). */
  a?: BufferBinding;
  b: BufferBinding;
  out: BufferBinding;
}

/** out = a + b, or out += b without `a` (a dispatch may not bind one buffer read-only and read-write). */
export function prepareElementwiseAdd(ctx: GpuContext, s: ElementwiseShape & FoldOption, buf: AddBuffers) {
  checkCount('elementwise_add', 'n', s.n);
  const shape = { ...s, inPlace: !buf.a };
  return ctx.prepare(elementwiseAddKernel, shape, { a: buf.a ?? buf.b, b: buf.b, out: buf.out });
}

export function prepareElementwiseScale(ctx: GpuContext, s: ScaleShape, buf: { x: BufferBinding }) {
  checkCount('elementwise_scale', 'n', s.n);
  return ctx.prepare(elementwiseScaleKernel, s, buf);
}

export function prepareElementwiseAxpy(ctx: GpuContext, s: ScaleShape, buf: { x: BufferBinding; y: BufferBinding }) {
  checkCount('elementwise_axpy', 'n', s.n);
  return ctx.prepare(elementwiseAxpyKernel, s, buf);
}

export async function runElementwiseAdd(ctx: GpuContext, s: ElementwiseShape & FoldOption, buf: AddBuffers): Promise<void> {
  submitOnce(ctx, await prepareElementwiseAdd(ctx, s, buf));
}

export async function runElementwiseScale(ctx: GpuContext, s: ScaleShape, buf: { x: BufferBinding }): Promise<void> {
  submitOnce(ctx, await prepareElementwiseScale(ctx, s, buf));
}

export async function runElementwiseAxpy(
  ctx: GpuContext, s: ScaleShape, buf: { x: BufferBinding; y: BufferBinding },
): Promise<void> {
  submitOnce(ctx, await prepareElementwiseAxpy(ctx, s, buf));
}

/** Submits one prepared launch and frees its uniform buffer (the run* helpers' common tail). */
export function submitOnce(ctx: GpuContext, launch: Launch): void {
  ctx.submit([launch], launch.label);
  launch.destroy();
}
