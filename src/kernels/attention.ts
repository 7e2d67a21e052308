// attention family: multi-head self-attention core (GPT-2 causal, ViT bidirectional), forward as
// scores+softmax (att) then att·V, backward as dpreatt then dqkv. See shaders/attention_*.wgsl.
import attentionBackwardQkvWgsl from '../../shaders/attention_backward_qkv.wgsl?raw';
import attentionBackwardWgsl from '../../shaders/attention_backward.wgsl?raw';
import attentionForwardValuesWgsl from '../../shaders/attention_forward_values.wgsl?raw';
import attentionForwardWgsl from '../../shaders/attention_forward.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type AttentionShape, headSize } from '../ref/attention';
import { type KernelDescriptor, type UniformField, ceilDiv, f32, fold2d, u32, withLib } from '../gpu/kernel';
import { rowWorkgroup } from './softmax';

export type { AttentionShape };

/** Threads per workgroup of the one-thread-per-element kernels. */
const ELEMENT_WG = 64;

const uniforms = (s: AttentionShape): UniformField[] => {
  const HS = headSize(s);
  return [u32(s.B), u32(s.T), u32(s.C), u32(s.NH), u32(HS), f32(1 / Math.sqrt(HS))];
};
const mask = (s: AttentionShape) => (s.causal ? 'causal' : 'full');

/** A kernel with one workgroup per attention row (b, h, t), reducing over the T keys. */
/** One workgroup per (b, h, t) row, reducing with shaders/lib/workgroup_reduce.wgsl. */
function rowKernel(name: string, wgsl: string, bindings: KernelDescriptor<AttentionShape>['bindings']) {
  const k: KernelDescriptor<AttentionShape> = {
    name, wgsl: withLib(wgsl, workgroupReduceWgsl), bindings, uniforms,
    overrides: (s) => ({ WG: rowWorkgroup(s.T), CAUSAL: s.causal ? 1 : 0 }),
    dispatch: (s) => fold2d(s.B * s.NH * s.T),
    key: (s) => `${name}/wg${rowWorkgroup(s.T)}/${mask(s)}`,
  };
  return k;
}

/** A kernel with one thread per element of a (B, T, width·C) output. */
function elementKernel(name: string, wgsl: string, bindings: KernelDescriptor<AttentionShape>['bindings'], width: number) {
  const k: KernelDescriptor<AttentionShape> = {
    name, wgsl, bindings, uniforms,
    overrides: (s) => ({ WG: ELEMENT_WG, CAUSAL: s.causal ? 1 : 0 }),
    dispatch: (s) => fold2d(ceilDiv(s.B * s.T * width * s.C, ELEMENT_WG)),
    key: (s) => `${name}/wg${ELEMENT_WG}/${mask(s)}`,
  };
  return k;
}

export const attentionForwardKernel = rowKernel('attention_forward', attentionForwardWgsl,
  ['dims:uniform', 'qkv:read', 'att:rw']);
export const attentionForwardValuesKernel = elementKernel('attention_forward_values', attentionForwardValuesWgsl,
  ['dims:uniform', 'qkv:read', 'att:read', 'out:rw'], 1);
export const attentionBackwardKernel = rowKernel('attention_backward', attentionBackwardWgsl,
  ['dims:uniform', 'dout:read', 'qkv:read', 'att:read', 'dpreatt:rw']);
export const attentionBackwardQkvKernel = elementKernel('attention_backward_qkv', attentionBackwardQkvWgsl,
  ['dims:uniform', 'dout:read', 'qkv:read', 'att:read', 'dpreatt:read', 'dqkv:rw'], 3);

export function checkAttentionShape(s: AttentionShape): void {
  for (const d of ['B', 'T', 'C', 'NH'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`attention: ${d}=${s[d]} must be a positive integer`);
  }
  if (s.C % s.NH !== 0) throw new KernelShapeError(`attention: C=${s.C} is not a multiple of NH=${s.NH}`);
  // Flat u32 indices into qkv (B·T·3C) and att (B·NH·T·T).
  const largest = Math.max(s.B * s.T * 3 * s.C, s.B * s.NH * s.T * s.T);
  if (largest >= 2 ** 32) throw new KernelShapeError(`attention: ${largest} elements overflow u32 indices`);
}

export interface AttentionForwardBuffers {
  qkv: BufferBinding; // (B, T, 3C)
  att: BufferBinding; // (B, NH, T, T), cached for the backward
  out: BufferBinding; // (B, T, C)
}

export interface AttentionBackwardBuffers {
  dout: BufferBinding; // (B, T, C)
  qkv: BufferBinding; // (B, T, 3C)
  att: BufferBinding; // (B, NH, T, T) from the forward
  dpreatt: BufferBinding; // (B, NH, T, T) scratch
  dqkv: BufferBinding; // (B, T, 3C), written with `=`
}

/** The two forward launches, in order: att = softmax(QKᵀ/√HS), then out = att·V. */
export async function prepareAttentionForward(ctx: GpuContext, s: AttentionShape, buf: AttentionForwardBuffers): Promise<Launch[]> {
  checkAttentionShape(s);
  return [
    await ctx.prepare(attentionForwardKernel, s, { qkv: buf.qkv, att: buf.att }),
    await ctx.prepare(attentionForwardValuesKernel, s, { qkv: buf.qkv, att: buf.att, out: buf.out }),
  ];
}

/** The two backward launches, in order: dpreatt, then dqkv. */
export async function prepareAttentionBackward(ctx: GpuContext, s: AttentionShape, buf: AttentionBackwardBuffers): Promise<Launch[]> {
  checkAttentionShape(s);
  const { dout, qkv, att, dpreatt, dqkv } = buf;
  return [
    await ctx.prepare(attentionBackwardKernel, s, { dout, qkv, att, dpreatt }),
    await ctx.prepare(attentionBackwardQkvKernel, s, { dout, qkv, att, dpreatt, dqkv }),
  ];
}

function submitAll(ctx: GpuContext, launches: Launch[], label: string): void {
  ctx.submit(launches, label);
  for (const l of launches) l.destroy();
}

export async function runAttentionForward(ctx: GpuContext, s: AttentionShape, buf: AttentionForwardBuffers): Promise<void> {
  submitAll(ctx, await prepareAttentionForward(ctx, s, buf), 'attention_forward');
}

export async function runAttentionBackward(ctx: GpuContext, s: AttentionShape, buf: AttentionBackwardBuffers): Promise<void> {
  submitAll(ctx, await prepareAttentionBackward(ctx, s, buf), 'attention_backward');
}
