// attention_gqa family: causal grouped-query attention (Llama, Mistral, Qwen2/3) on separate q
// (B, T, NH, HS) and k, v (B, T, NKV, HS) buffers; forward as scores+softmax (att) then att·V, backward
// as dpreatt then dq, dk, dv (dk, dv summed over each group of NH/NKV query heads).
// See shaders/attention_gqa_*.wgsl and src/ref/attention_gqa.ts. GPT-2/ViT keep attention.ts.
import backwardQkvWgsl from '../../shaders/attention_gqa_backward_qkv.wgsl?raw';
import backwardWgsl from '../../shaders/attention_gqa_backward.wgsl?raw';
import backwardQkvVec4Wgsl from '../../shaders/attention_gqa_backward_qkv_vec4.wgsl?raw';
import forwardValuesWgsl from '../../shaders/attention_gqa_forward_values.wgsl?raw';
import forwardValuesVec4Wgsl from '../../shaders/attention_gqa_forward_values_vec4.wgsl?raw';
import forwardWgsl from '../../shaders/attention_gqa_forward.wgsl?raw';
import qkvGradsWgsl from '../../shaders/lib/attention_gqa_qkv_grads.wgsl?raw';
import valuesWgsl from '../../shaders/lib/attention_gqa_values.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type GqaShape, gqaBackward, gqaForward } from '../ref/attention_gqa';
import { seededUniform } from '../ref/seeded';
import type { FoldOption } from './elementwise';
import { type KernelDescriptor, type UniformField, ceilDiv, f32, fold2d, u32, withLib } from '../gpu/kernel';
import { type RowKernelSpec, chooseRowWorkgroup } from './row_select';
import { rowWorkgroup } from './softmax';

export type { GqaShape };

type Shape = GqaShape & FoldOption;
/** `wg`: the workgroup size this device chose for the row kernels (row_select.ts); without it, the size by row length. */
type RowShape = Shape & { wg?: number };
const rowWg = (s: RowShape) => s.wg ?? rowWorkgroup(s.T);

/** Threads per workgroup of the one-thread-per-element kernels. */
const ELEMENT_WG = 64;

const uniforms = (s: GqaShape): UniformField[] =>
  [u32(s.B), u32(s.T), u32(s.NH), u32(s.NKV), u32(s.HS), f32(1 / Math.sqrt(s.HS))];

/** One workgroup per (b, h, t) row, reducing with shaders/lib/workgroup_reduce.wgsl. */
function rowKernel(name: string, wgsl: string, bindings: KernelDescriptor<RowShape>['bindings']): KernelDescriptor<RowShape> {
  return {
    name, wgsl: withLib(wgsl, workgroupReduceWgsl), bindings, uniforms,
    overrides: (s) => ({ WG: rowWg(s) }),
    dispatch: (s) => fold2d(s.B * s.NH * s.T, s.maxGroupsPerDim),
    key: (s) => `${name}/wg${rowWg(s)}`,
  };
}

/** One thread per output element; `count` is the number of elements. `wgsl` includes its body (shaders/lib/). */
function elementKernel(
  name: string, wgsl: string, bindings: KernelDescriptor<Shape>['bindings'], count: (s: GqaShape) => number,
): KernelDescriptor<Shape> {
  return {
    name, wgsl, bindings, uniforms,
    overrides: () => ({ WG: ELEMENT_WG }),
    dispatch: (s) => fold2d(ceilDiv(count(s), ELEMENT_WG), s.maxGroupsPerDim),
    key: () => `${name}/wg${ELEMENT_WG}`,
  };
}

const qElements = (s: GqaShape) => s.B * s.T * s.NH * s.HS;
const kvElements = (s: GqaShape) => s.B * s.T * s.NKV * s.HS;

export const attentionGqaForwardKernel = rowKernel('attention_gqa_forward', forwardWgsl,
  ['dims:uniform', 'q:read', 'k:read', 'att:rw']);
export const attentionGqaForwardValuesKernel = elementKernel('attention_gqa_forward_values', withLib(forwardValuesWgsl, valuesWgsl),
  ['dims:uniform', 'v:read', 'att:read', 'out:rw'], qElements);
export const attentionGqaBackwardKernel = rowKernel('attention_gqa_backward', backwardWgsl,
  ['dims:uniform', 'dout:read', 'v:read', 'att:read', 'dpreatt:rw']);
export const attentionGqaBackwardQkvKernel = elementKernel('attention_gqa_backward_qkv', withLib(backwardQkvWgsl, qkvGradsWgsl),
  ['dims:uniform', 'dout:read', 'q:read', 'k:read', 'att:read', 'dpreatt:read', 'dq:rw', 'dk:rw', 'dv:rw'],
  (s) => qElements(s) + 2 * kvElements(s));

// Four channels per thread where HS % 4 = 0 (every Llama/Qwen head_dim): the same sums in the same order (the
// same body, shaders/lib/, on vec4 elements), with each probability loaded once for four products (on SwiftShader 2–3× faster than the scalar kernels above).
export const attentionGqaForwardValuesVec4Kernel = elementKernel('attention_gqa_forward_values_vec4', withLib(forwardValuesVec4Wgsl, valuesWgsl),
  ['dims:uniform', 'v:read', 'att:read', 'out:rw'], (s) => qElements(s) / 4);
export const attentionGqaBackwardQkvVec4Kernel = elementKernel('attention_gqa_backward_qkv_vec4', withLib(backwardQkvVec4Wgsl, qkvGradsWgsl),
  ['dims:uniform', 'dout:read', 'q:read', 'k:read', 'att:read', 'dpreatt:read', 'dq:rw', 'dk:rw', 'dv:rw'],
  (s) => (qElements(s) + 2 * kvElements(s)) / 4);

/** The values and dq/dk/dv kernels for this head size: vec4 channels when HS is a multiple of 4. */
export const gqaElementKernels = (s: GqaShape) => (s.HS % 4 === 0
  ? { values: attentionGqaForwardValuesVec4Kernel, qkv: attentionGqaBackwardQkvVec4Kernel }
  : { values: attentionGqaForwardValuesKernel, qkv: attentionGqaBackwardQkvKernel });

/** Fewer rows for the selector's check and timing: one batch item, and for the small check one KV head with its group of query heads. */
const gqaRows = (s: GqaShape, n: number): GqaShape => (n < s.NH * s.T ? { ...s, B: 1, NH: s.NH / s.NKV, NKV: 1 } : { ...s, B: 1 });
const gqaInputs = (s: GqaShape, seed: number) => ({
  q: seededUniform(qElements(s), seed), k: seededUniform(kvElements(s), seed + 1), v: seededUniform(kvElements(s), seed + 2),
});

/** What the per-device workgroup choice checks and times for the score rows (row_select.ts). */
export const gqaForwardRows: RowKernelSpec<GqaShape> = {
  name: 'attention_gqa_forward', kernel: attentionGqaForwardKernel, rowLength: (s) => s.T, withRows: gqaRows,
  inputs: (s) => {
    const { q, k } = gqaInputs(s, 11);
    return { q, k, att: new Float32Array(s.B * s.NH * s.T * s.T) };
  },
  reference: (s, d) => {
    const att = new Float32Array(s.B * s.NH * s.T * s.T);
    gqaForward(new Float32Array(qElements(s)), att, d.q, d.k, new Float32Array(kvElements(s)), s);
    return { att };
  },
  tolerance: { atol: 1e-5, rtol: 1e-4 },
};

export const gqaBackwardRows: RowKernelSpec<GqaShape> = {
  name: 'attention_gqa_backward', kernel: attentionGqaBackwardKernel, rowLength: (s) => s.T, withRows: gqaRows,
  inputs: (s) => {
    const { q, k, v } = gqaInputs(s, 21), att = new Float32Array(s.B * s.NH * s.T * s.T);
    gqaForward(new Float32Array(qElements(s)), att, q, k, v, s);
    return { dout: seededUniform(qElements(s), 24), v, att, dpreatt: new Float32Array(att.length) };
  },
  reference: (s, d) => {
    const dpreatt = new Float32Array(d.att.length), nq = qElements(s), nkv = kvElements(s);
    gqaBackward(new Float32Array(nq), new Float32Array(nkv), new Float32Array(nkv), dpreatt, d.dout,
      new Float32Array(nq), new Float32Array(nkv), d.v, d.att, s);
    return { dpreatt };
  },
  tolerance: { atol: 1e-4, rtol: 1e-3 },
};

/** Every named dimension a positive integer, and NH a multiple of NKV. */
export function checkGqaShape(kernel: string, dims: Record<string, number> & { NH: number; NKV: number }): void {
  for (const [d, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new KernelShapeError(`${kernel}: ${d}=${v} must be a positive integer`);
  }
  if (dims.NH % dims.NKV !== 0) throw new KernelShapeError(`${kernel}: NH=${dims.NH} is not a multiple of NKV=${dims.NKV}`);
}

function checkShape(s: GqaShape): void {
  checkGqaShape('attention_gqa', { B: s.B, T: s.T, NH: s.NH, NKV: s.NKV, HS: s.HS });
  const largest = Math.max(qElements(s) + 2 * kvElements(s), s.B * s.NH * s.T * s.T);
  if (largest >= 2 ** 32) throw new KernelShapeError(`attention_gqa: ${largest} elements overflow u32 indices`);
}

export interface GqaForwardBuffers {
  q: BufferBinding; // (B, T, NH, HS), after RoPE
  k: BufferBinding; // (B, T, NKV, HS), after RoPE
  v: BufferBinding; // (B, T, NKV, HS)
  att: BufferBinding; // (B, NH, T, T), cached for the backward
  out: BufferBinding; // (B, T, NH, HS)
}

export interface GqaBackwardBuffers {
  dout: BufferBinding; // (B, T, NH, HS)
  q: BufferBinding;
  k: BufferBinding;
  v: BufferBinding;
  att: BufferBinding; // (B, NH, T, T) from the forward
  dpreatt: BufferBinding; // (B, NH, T, T) scratch
  dq: BufferBinding; // (B, T, NH, HS), written with `=`
  dk: BufferBinding; // (B, T, NKV, HS), written with `=`
  dv: BufferBinding; // (B, T, NKV, HS), written with `=`
}

/** The two forward launches, in order: att = softmax(QKᵀ/√HS) (causal), then out = att·V. */
export async function prepareGqaForward(ctx: GpuContext, s: Shape, buf: GqaForwardBuffers): Promise<Launch[]> {
  checkShape(s);
  return [
    await ctx.prepare(attentionGqaForwardKernel, { ...s, wg: await chooseRowWorkgroup(ctx, gqaForwardRows, s) }, { q: buf.q, k: buf.k, att: buf.att }),
    await ctx.prepare(gqaElementKernels(s).values, s, { v: buf.v, att: buf.att, out: buf.out }),
  ];
}

/** The two backward launches, in order: dpreatt, then dq, dk, dv. */
export async function prepareGqaBackward(ctx: GpuContext, s: Shape, buf: GqaBackwardBuffers): Promise<Launch[]> {
  checkShape(s);
  const { dout, q, k, v, att, dpreatt, dq, dk, dv } = buf;
  return [
    await ctx.prepare(attentionGqaBackwardKernel, { ...s, wg: await chooseRowWorkgroup(ctx, gqaBackwardRows, s) }, { dout, v, att, dpreatt }),
    await ctx.prepare(gqaElementKernels(s).qkv, s, { dout, q, k, att, dpreatt, dq, dk, dv }),
  ];
}

function submitAll(ctx: GpuContext, launches: Launch[], label: string): void {
  ctx.submit(launches, label);
  for (const l of launches) l.destroy();
}

export async function runGqaForward(ctx: GpuContext, s: Shape, buf: GqaForwardBuffers): Promise<void> {
  submitAll(ctx, await prepareGqaForward(ctx, s, buf), 'attention_gqa_forward');
}

export async function runGqaBackward(ctx: GpuContext, s: Shape, buf: GqaBackwardBuffers): Promise<void> {
  submitAll(ctx, await prepareGqaBackward(ctx, s, buf), 'attention_gqa_backward');
}
