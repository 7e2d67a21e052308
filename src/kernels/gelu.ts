// gelu family: forward and backward, tanh (GPT-2 `gelu_new`) or exact erf (ViT `gelu`) form.
// See shaders/gelu_forward.wgsl and shaders/gelu_backward.wgsl.
import backwardWgsl from '../../shaders/gelu_backward.wgsl?raw';
import forwardWgsl from '../../shaders/gelu_forward.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import type { GeluShape } from '../ref/gelu';
import { FLAT_WG, type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, u32 } from '../gpu/kernel';

export type { GeluShape };

type Shape = GeluShape & FoldOption;

const form = (s: GeluShape): string => (s.approximate === 'tanh' ? 'tanh' : 'erf');

export const geluForwardKernel: KernelDescriptor<Shape> = {
  name: 'gelu_forward',
  wgsl: forwardWgsl,
  bindings: ['dims:uniform', 'x:read', 'out:rw'],
  uniforms: (s) => [u32(s.n)],
  overrides: (s) => ({ WG: FLAT_WG, TANH_FORM: s.approximate === 'tanh' ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: (s) => `gelu_forward/wg${FLAT_WG}/${form(s)}`,
};

export const geluBackwardKernel: KernelDescriptor<Shape> = {
  name: 'gelu_backward',
  wgsl: backwardWgsl,
  bindings: ['dims:uniform', 'x:read', 'dy:read', 'dx:rw'],
  uniforms: (s) => [u32(s.n)],
  overrides: (s) => ({ WG: FLAT_WG, TANH_FORM: s.approximate === 'tanh' ? 1 : 0, ACCUMULATE: s.accumulate ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: (s) => `gelu_backward/wg${FLAT_WG}/${form(s)}${s.accumulate ? '/acc' : ''}`,
};

export interface GeluForwardBuffers {
  x: BufferBinding;
  out: BufferBinding;
}

export interface GeluBackwardBuffers {
  x: BufferBinding;
  dy: BufferBinding;
  dx: BufferBinding;
}

export function prepareGeluForward(ctx: GpuContext, s: Shape, buf: GeluForwardBuffers) {
  checkCount('gelu_forward', 'n', s.n);
  return ctx.prepare(geluForwardKernel, s, { x: buf.x, out: buf.out });
}

export function prepareGeluBackward(ctx: GpuContext, s: Shape, buf: GeluBackwardBuffers) {
  checkCount('gelu_backward', 'n', s.n);
  return ctx.prepare(geluBackwardKernel, s, { x: buf.x, dy: buf.dy, dx: buf.dx });
}

export async function runGeluForward(ctx: GpuContext, s: Shape, buf: GeluForwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareGeluForward(ctx, s, buf));
}

export async function runGeluBackward(ctx: GpuContext, s: Shape, buf: GeluBackwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareGeluBackward(ctx, s, buf));
}
