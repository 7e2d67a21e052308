// merge family: fold a LoRA or DoRA adapter into its frozen base weight in place, in f32
// (lora_merge.wgsl, dora_merge.wgsl; spec in src/ref/merge.ts). Both layouts: nn.Linear (OUT, IN) and
// GPT-2 Conv1D (IN, OUT).
import loraMergeWgsl from '../../shaders/lora_merge.wgsl?raw';
import doraMergeWgsl from '../../shaders/dora_merge.wgsl?raw';
import type { GpuContext, Launch } from '../gpu/context';
import type { DoraWeightShape } from '../ref/dora';
import type { LoraMergeShape } from '../ref/merge';
import { prepareDoraRowNorm } from './dora';
import type { FoldOption } from './elementwise';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32 } from './kernel';
import { checkLoraShape } from './lora';

export type { LoraMergeShape };

const WG = 64;
const layout = (s: { conv1d: boolean }) => (s.conv1d ? 'conv1d' : 'linear');

export const loraMergeKernel: KernelDescriptor<LoraMergeShape & FoldOption> = {
  name: 'lora_merge',
  wgsl: loraMergeWgsl,
  bindings: ['dims:uniform', 'lora_a:read', 'lora_b:read', 'w:rw'],
  uniforms: (s) => [u32(s.IN), u32(s.OUT), u32(s.R), f32(s.c)],
  overrides: (s) => ({ WG, CONV1D: s.conv1d ? 1 : 0 }),
  dispatch: (s) => fold2d(ceilDiv(s.IN * s.OUT, WG), s.maxGroupsPerDim),
  key: (s) => `lora_merge/wg${WG}/${layout(s)}`,
};

export const doraMergeKernel: KernelDescriptor<DoraWeightShape & { unmerge: boolean } & FoldOption> = {
  name: 'dora_merge',
  wgsl: doraMergeWgsl,
  bindings: ['dims:uniform', 'lora_a:read', 'lora_b:read', 'm:read', 'norm:read', 'w:rw'],
  uniforms: (s) => [u32(s.IN), u32(s.OUT), u32(s.R), f32(s.scale)],
  overrides: (s) => ({ WG, CONV1D: s.conv1d ? 1 : 0, UNMERGE: s.unmerge ? 1 : 0 }),
  dispatch: (s) => fold2d(ceilDiv(s.IN * s.OUT, WG), s.maxGroupsPerDim),
  key: (s) => `dora_merge/wg${WG}/${layout(s)}${s.unmerge ? '/unmerge' : ''}`,
};

export interface AdapterWeightBuffers {
  w: GPUBuffer;     // (OUT, IN), or (IN, OUT) for Conv1D; rewritten in place
  loraA: GPUBuffer; // (R, IN)
  loraB: GPUBuffer; // (OUT, R)
}

export interface DoraMergeBuffers extends AdapterWeightBuffers {
  m: GPUBuffer;    // (OUT)
  norm: GPUBuffer; // (OUT): written by the merge, read back by the unmerge
}

/** W ← W + c·B·A (Conv1D: W += c·(B·A)ᵀ); c = s merges, c = −s unmerges. */
export async function prepareLoraMerge(ctx: GpuContext, s: LoraMergeShape, buf: AdapterWeightBuffers): Promise<Launch> {
  checkLoraShape({ ...s, N: 1, scale: s.c });
  return ctx.prepare(loraMergeKernel, s, { lora_a: buf.loraA, lora_b: buf.loraB, w: buf.w });
}

/** [norm = ‖W + s·B·A‖ per row, W ← (m/norm)·(W + s·B·A)]; keep `norm` for the unmerge. */
export async function prepareDoraMerge(ctx: GpuContext, s: DoraWeightShape, buf: DoraMergeBuffers): Promise<Launch[]> {
  return [
    await prepareDoraRowNorm(ctx, s, buf),
    await ctx.prepare(doraMergeKernel, { ...s, unmerge: false }, bindDora(buf)),
  ];
}

/** W ← W / (m/norm) − s·B·A with the norm cached by prepareDoraMerge (not recomputed from merged W). */
export async function prepareDoraUnmerge(ctx: GpuContext, s: DoraWeightShape, buf: DoraMergeBuffers): Promise<Launch> {
  checkLoraShape({ ...s, N: 1 });
  return ctx.prepare(doraMergeKernel, { ...s, unmerge: true }, bindDora(buf));
}

function bindDora(buf: DoraMergeBuffers) {
  return { lora_a: buf.loraA, lora_b: buf.loraB, m: buf.m, norm: buf.norm, w: buf.w };
}
