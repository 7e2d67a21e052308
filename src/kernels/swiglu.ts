// swiglu family: the elementwise middle of the gated SiLU MLP, h = silu(g) ⊙ u, forward and backward
// (dg, du). gate_proj, up_proj and down_proj stay matmul kernels writing/reading separate (B, T, I)
// buffers. See shaders/swiglu_forward.wgsl, shaders/swiglu_backward.wgsl and src/ref/swiglu.ts.
import backwardWgsl from '../../shaders/swiglu_backward.wgsl?raw';
import forwardWgsl from '../../shaders/swiglu_forward.wgsl?raw';
import sigmoidWgsl from '../../shaders/lib/sigmoid.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import type { SwigluShape } from '../ref/swiglu';
import { FLAT_WG, type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, u32, withLib } from '../gpu/kernel';

export type { SwigluShape };

type Shape = SwigluShape & FoldOption;

export const swigluForwardKernel: KernelDescriptor<Shape> = {
  name: 'swiglu_forward',
  wgsl: withLib(forwardWgsl, sigmoidWgsl),
  bindings: ['dims:uniform', 'g:read', 'u:read', 'h:rw'],
  uniforms: (s) => [u32(s.n)],
  overrides: () => ({ WG: FLAT_WG }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: () => `swiglu_forward/wg${FLAT_WG}`,
};

export const swigluBackwardKernel: KernelDescriptor<Shape> = {
  name: 'swiglu_backward',
  wgsl: withLib(backwardWgsl, sigmoidWgsl),
  bindings: ['dims:uniform', 'g:read', 'u:read', 'dh:read', 'dg:rw', 'du:rw'],
  uniforms: (s) => [u32(s.n)],
  overrides: (s) => ({ WG: FLAT_WG, ACCUMULATE: s.accumulate ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: (s) => `swiglu_backward/wg${FLAT_WG}${s.accumulate ? '/acc' : ''}`,
};

export interface SwigluForwardBuffers {
  g: BufferBinding; // (B, T, I) gate_proj output
  u: BufferBinding; // (B, T, I) up_proj output
  h: BufferBinding; // (B, T, I) down_proj input
}

export interface SwigluBackwardBuffers {
  g: BufferBinding;
  u: BufferBinding;
  dh: BufferBinding; // (B, T, I) gradient of down_proj's input
  dg: BufferBinding; // (B, T, I) must not alias du
  du: BufferBinding; // (B, T, I)
}

export function prepareSwigluForward(ctx: GpuContext, s: Shape, buf: SwigluForwardBuffers) {
  checkCount('swiglu_forward', 'n', s.n);
  return ctx.prepare(swigluForwardKernel, s, { ...buf });
}

export function prepareSwigluBackward(ctx: GpuContext, s: Shape, buf: SwigluBackwardBuffers) {
  checkCount('swiglu_backward', 'n', s.n);
  return ctx.prepare(swigluBackwardKernel, s, { ...buf });
}

export async function runSwigluForward(ctx: GpuContext, s: Shape, buf: SwigluForwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareSwigluForward(ctx, s, buf));
}

export async function runSwigluBackward(ctx: GpuContext, s: Shape, buf: SwigluBackwardBuffers): Promise<void> {
  submitOnce(ctx, await prepareSwigluBackward(ctx, s, buf));
}
