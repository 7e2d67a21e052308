// attention_decode family: one query over the KV cache, the attention of a GPT-2 generation step
// (B = 1, M = 1 rows). Single pass; see shaders/attention_decode.wgsl and src/ref/attention_decode.ts.
import attentionDecodeWgsl from '../../shaders/attention_decode.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { AttentionDecodeShape } from '../ref/attention_decode';
import { type KernelDescriptor, f32, fold2d, u32, withLib } from '../gpu/kernel';
import { rowWorkgroup } from './softmax';

export type { AttentionDecodeShape };

export const attentionDecodeKernel: KernelDescriptor<AttentionDecodeShape> = {
  name: 'attention_decode',
  wgsl: withLib(attentionDecodeWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'qkv:read', 'kcache:read', 'vcache:read', 'att:rw', 'out:rw'],
  uniforms: (s) => {
    const HS = s.C / s.NH;
    return [u32(s.T), u32(s.C), u32(s.NH), u32(HS), f32(1 / Math.sqrt(HS))];
  },
  // Threads reduce over the T keys, as a softmax row of length T does.
  overrides: (s) => ({ WG: rowWorkgroup(s.T) }),
  dispatch: (s) => fold2d(s.NH), // one workgroup per head
  key: (s) => `attention_decode/wg${rowWorkgroup(s.T)}`,
};

export function checkAttentionDecodeShape(s: AttentionDecodeShape): void {
  for (const d of ['T', 'C', 'NH'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`attention_decode: ${d}=${s[d]} must be a positive integer`);
  }
  if (s.C % s.NH !== 0) throw new KernelShapeError(`attention_decode: C=${s.C} is not a multiple of NH=${s.NH}`);
  if (s.T * s.C >= 2 ** 32) throw new KernelShapeError(`attention_decode: T·C=${s.T * s.C} overflows u32 indices`);
}

export interface AttentionDecodeBuffers {
  qkv: BufferBinding; // (3C) the step's c_attn row; Q = columns [0, C)
  kcache: BufferBinding; // (maxT, C), rows < T valid
  vcache: BufferBinding; // (maxT, C), rows < T valid
  att: BufferBinding; // (NH, T) scratch, at least NH·T floats
  out: BufferBinding; // (C)
}

export function prepareAttentionDecode(ctx: GpuContext, s: AttentionDecodeShape, buf: AttentionDecodeBuffers): Promise<Launch> {
  checkAttentionDecodeShape(s);
  return ctx.prepare(attentionDecodeKernel, s, { ...buf });
}

export async function runAttentionDecode(ctx: GpuContext, s: AttentionDecodeShape, buf: AttentionDecodeBuffers): Promise<void> {
  const launch = await prepareAttentionDecode(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}
