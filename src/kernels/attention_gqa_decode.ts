// attention_gqa_decode family: one new query over the KV cache with NKV ≤ NH key/value heads, the
// attention of a Llama/Mistral/Qwen generation step (B = 1). Single pass; see
// shaders/attention_gqa_decode.wgsl and gqaDecode in src/ref/attention_gqa.ts.
import decodeWgsl from '../../shaders/attention_gqa_decode.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { GqaDecodeShape } from '../ref/attention_gqa';
import { checkGqaShape } from './attention_gqa';
import type { FoldOption } from './elementwise';
import { type KernelDescriptor, f32, fold2d, u32, withLib } from '../gpu/kernel';
import { rowWorkgroup } from './softmax';

export type { GqaDecodeShape };

type Shape = GqaDecodeShape & FoldOption & {
  /** Rows the cache buffers hold (the generator's max positions); T ≤ maxT. */
  maxT: number;
};

export const attentionGqaDecodeKernel: KernelDescriptor<Shape> = {
  name: 'attention_gqa_decode',
  wgsl: withLib(decodeWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'q:read', 'kcache:read', 'vcache:read', 'att:rw', 'out:rw'],
  uniforms: (s) => [u32(s.T), u32(s.NH), u32(s.NKV), u32(s.HS), f32(1 / Math.sqrt(s.HS))],
  // Threads reduce over the T keys, as a softmax row of length T does.
  overrides: (s) => ({ WG: rowWorkgroup(s.T) }),
  dispatch: (s) => fold2d(s.NH, s.maxGroupsPerDim), // one workgroup per query head
  key: (s) => `attention_gqa_decode/wg${rowWorkgroup(s.T)}`,
};

export interface GqaDecodeBuffers {
  q: BufferBinding; // (NH, HS) the step's query, after RoPE at position T − 1
  kcache: BufferBinding; // (maxT, NKV, HS), rows < T valid
  vcache: BufferBinding; // (maxT, NKV, HS), rows < T valid
  att: BufferBinding; // (NH, T) scratch, at least NH·T floats
  out: BufferBinding; // (NH, HS)
}

export function prepareGqaDecode(ctx: GpuContext, s: Shape, buf: GqaDecodeBuffers): Promise<Launch> {
  checkGqaShape('attention_gqa_decode', { T: s.T, NH: s.NH, NKV: s.NKV, HS: s.HS, maxT: s.maxT });
  if (s.T > s.maxT) throw new KernelShapeError(`attention_gqa_decode: T=${s.T} exceeds the cache's ${s.maxT} rows`);
  if (s.maxT * s.NKV * s.HS >= 2 ** 32) throw new KernelShapeError('attention_gqa_decode: the cache overflows u32 indices');
  return ctx.prepare(attentionGqaDecodeKernel, s, { ...buf });
}

export async function runGqaDecode(ctx: GpuContext, s: Shape, buf: GqaDecodeBuffers): Promise<void> {
  const launch = await prepareGqaDecode(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}
