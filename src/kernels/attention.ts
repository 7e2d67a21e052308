// attention family: multi-head self-attention core (GPT-2 causal, ViT bidirectional), forward as
// scores+softmax (att) then att·V, backward as dpreatt then dqkv. See shaders/attention_*.wgsl.
import attentionBackwardQkvWgsl from '../../shaders/attention_backward_qkv.wgsl?raw';
import attentionBackwardWgsl from '../../shaders/attention_backward.wgsl?raw';
import attentionForwardValuesWgsl from '../../shaders/attention_forward_values.wgsl?raw';
import attentionForwardWgsl from '../../shaders/attention_forward.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type AttentionShape, attentionBackward, attentionForward, headSize } from '../ref/attention';
import { seededUniform } from '../ref/seeded';
import { type RowKernelSpec, chooseRowWorkgroup } from './row_select';
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

/** `wg`: the workgroup size this device chose (row_select.ts); without it, the size by row length. */
type RowShape = AttentionShape & { wg?: number };
const rowWg = (s: RowShape) => s.wg ?? rowWorkgroup(s.T);

/** One workgroup per (b, h, t) row, reducing over the T keys with shaders/lib/workgroup_reduce.wgsl. */
function rowKernel(name: string, wgsl: string, bindings: KernelDescriptor<AttentionShape>['bindings']) {
  const k: KernelDescriptor<RowShape> = {
    name, wgsl: withLib(wgsl, workgroupReduceWgsl), bindings, uniforms,
    overrides: (s) => ({ WG: rowWg(s), CAUSAL: s.causal ? 1 : 0 }),
    dispatch: (s) => fold2d(s.B * s.NH * s.T),
    key: (s) => `${name}/wg${rowWg(s)}/${mask(s)}`,
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

/** Fewer rows for the selector's check and timing: one batch item, and one head for the small check. */
const attentionRows = (s: AttentionShape, n: number): AttentionShape =>
  (n < s.NH * s.T ? { ...s, B: 1, NH: 1, C: headSize(s) } : { ...s, B: 1 });

/** What the per-device workgroup choice checks and times (row_select.ts). */
export const attentionForwardRows: RowKernelSpec<AttentionShape> = {
  name: 'attention_forward', kernel: attentionForwardKernel, rowLength: (s) => s.T, withRows: attentionRows,
  inputs: (s) => ({ qkv: seededUniform(s.B * s.T * 3 * s.C, 1), att: new Float32Array(s.B * s.NH * s.T * s.T) }),
  reference: (s, d) => {
    const att = new Float32Array(s.B * s.NH * s.T * s.T);
    attentionForward(new Float32Array(s.B * s.T * s.C), att, d.qkv, s);
    return { att };
  },
  tolerance: { atol: 1e-5, rtol: 1e-4 },
};

export const attentionBackwardRows: RowKernelSpec<AttentionShape> = {
  name: 'attention_backward', kernel: attentionBackwardKernel, rowLength: (s) => s.T, withRows: attentionRows,
  inputs: (s) => {
    const qkv = seededUniform(s.B * s.T * 3 * s.C, 2), att = new Float32Array(s.B * s.NH * s.T * s.T);
    attentionForward(new Float32Array(s.B * s.T * s.C), att, qkv, s);
    return { dout: seededUniform(s.B * s.T * s.C, 3), qkv, att, dpreatt: new Float32Array(att.length) };
  },
  reference: (s, d) => {
    const dpreatt = new Float32Array(d.att.length);
    attentionBackward(new Float32Array(d.qkv.length), dpreatt, d.dout, d.qkv, d.att, s);
    return { dpreatt };
  },
  tolerance: { atol: 1e-4, rtol: 1e-3 },
};

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
    await ctx.prepare(attentionForwardKernel, { ...s, wg: await chooseRowWorkgroup(ctx, attentionForwardRows, s) }, { qkv: buf.qkv, att: buf.att }),
    await ctx.prepare(attentionForwardValuesKernel, s, { qkv: buf.qkv, att: buf.att, out: buf.out }),
  ];
}

/** The two backward launches, in order: dpreatt, then dqkv. */
export async function prepareAttentionBackward(ctx: GpuContext, s: AttentionShape, buf: AttentionBackwardBuffers): Promise<Launch[]> {
  checkAttentionShape(s);
  const { dout, qkv, att, dpreatt, dqkv } = buf;
  return [
    await ctx.prepare(attentionBackwardKernel, { ...s, wg: await chooseRowWorkgroup(ctx, attentionBackwardRows, s) }, { dout, qkv, att, dpreatt }),
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
