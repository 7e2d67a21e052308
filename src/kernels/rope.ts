// rope family: rotary position embedding (HF rotate-half), forward and backward (the transpose
// rotation), in place on q (B, T, NH, HS) or k (B, T, NKV, HS). The cos/sin tables come from
// src/ref/rope_freq.ts (invFreq, ropeTable). See shaders/rope.wgsl and src/ref/rope.ts.
import ropeWgsl from '../../shaders/rope.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { RopeShape } from '../ref/rope';
import { FLAT_WG, type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, u32 } from '../gpu/kernel';

export type { RopeShape };

type Shape = RopeShape & FoldOption;

/** Threads: one per rotated pair. */
const pairs = (s: RopeShape): number => s.B * s.T * s.NH * (s.HS / 2);

function ropeKernel(inverse: boolean): KernelDescriptor<Shape> {
  return {
    name: 'rope',
    wgsl: ropeWgsl,
    bindings: ['dims:uniform', 'cosTable:read', 'sinTable:read', 'x:rw'],
    uniforms: (s) => [u32(pairs(s)), u32(s.T), u32(s.NH), u32(s.HS), u32(s.pos0)],
    overrides: () => ({ WG: FLAT_WG, INVERSE: inverse ? 1 : 0 }),
    dispatch: (s) => flatDispatch(pairs(s), s),
    key: () => `rope/wg${FLAT_WG}/${inverse ? 'backward' : 'forward'}`,
  };
}

export const ropeForwardKernel = ropeKernel(false);
export const ropeBackwardKernel = ropeKernel(true);

export interface RopeBuffers {
  cos: BufferBinding; // (P, HS/2)
  sin: BufferBinding; // (P, HS/2)
  x: BufferBinding; // (B, T, NH, HS), rotated in place
}

export function checkRopeShape(kernel: string, s: RopeShape): void {
  for (const d of ['B', 'T', 'NH', 'HS', 'P'] as const) checkCount(kernel, d, s[d]);
  if (s.HS % 2 !== 0) throw new KernelShapeError(`${kernel}: HS=${s.HS} must be even (pairs j, j + HS/2)`);
  if (!Number.isInteger(s.pos0) || s.pos0 < 0) throw new KernelShapeError(`${kernel}: pos0=${s.pos0} must be an integer ≥ 0`);
  if (s.pos0 + s.T > s.P) {
    throw new KernelShapeError(`${kernel}: positions ${s.pos0}…${s.pos0 + s.T - 1} exceed the ${s.P}-row cos/sin table`);
  }
  if (s.B * s.T * s.NH * s.HS >= 2 ** 32) throw new KernelShapeError(`${kernel}: B·T·NH·HS overflows u32 indices`);
}

export function prepareRopeForward(ctx: GpuContext, s: Shape, buf: RopeBuffers) {
  checkRopeShape('rope', s);
  return ctx.prepare(ropeForwardKernel, s, { cosTable: buf.cos, sinTable: buf.sin, x: buf.x });
}

export function prepareRopeBackward(ctx: GpuContext, s: Shape, buf: RopeBuffers) {
  checkRopeShape('rope', s);
  return ctx.prepare(ropeBackwardKernel, s, { cosTable: buf.cos, sinTable: buf.sin, x: buf.x });
}

export async function runRopeForward(ctx: GpuContext, s: Shape, buf: RopeBuffers): Promise<void> {
  submitOnce(ctx, await prepareRopeForward(ctx, s, buf));
}

export async function runRopeBackward(ctx: GpuContext, s: Shape, buf: RopeBuffers): Promise<void> {
  submitOnce(ctx, await prepareRopeBackward(ctx, s, buf));
}
