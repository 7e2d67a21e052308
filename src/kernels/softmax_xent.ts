// softmax_xent family: fused softmax + cross-entropy forward (probs, per-row losses), the mean loss
// over non-ignored rows, and dlogits. See shaders/softmax_xent_*.wgsl.
import softmaxXentBackwardWgsl from '../../shaders/softmax_xent_backward.wgsl?raw';
import softmaxXentForwardWgsl from '../../shaders/softmax_xent_forward.wgsl?raw';
import softmaxXentMeanWgsl from '../../shaders/softmax_xent_mean.wgsl?raw';
import softmaxXentChunkStatsWgsl from '../../shaders/softmax_xent_chunk_stats.wgsl?raw';
import softmaxXentChunkProbsWgsl from '../../shaders/softmax_xent_chunk_probs.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import xentRowWgsl from '../../shaders/lib/xent_row.wgsl?raw';
import type { GpuContext, Launch } from '../gpu/context';
import type { VocabSplit } from './vocab_split';
import { KernelShapeError } from '../gpu/errors';
import { IGNORE_INDEX, type SoftmaxXentShape, softmaxXentForward } from '../ref/softmax_xent';
import { seededUniform } from '../ref/seeded';
import { type RowKernelSpec, chooseRowWorkgroup } from './row_select';
import { type KernelDescriptor, ceilDiv, f32, fold2d, i32, u32, withLib } from '../gpu/kernel';
import { rowWorkgroup } from './softmax';

export type { SoftmaxXentShape };

/** The backward's shape: `scale` = dloss / count for the mean loss (see meanLossScale). */
export type SoftmaxXentBackwardShape = SoftmaxXentShape & { scale: number; v0?: number; VT?: number };

const ELEMENT_WG = 256;
const MEAN_WG = 256;

/** `wg`: the workgroup size this device chose (row_select.ts); without it, the size by row length. */
const forwardWorkgroup = (s: SoftmaxXentShape & { wg?: number }) => s.wg ?? rowWorkgroup(s.V);

export const softmaxXentForwardKernel: KernelDescriptor<SoftmaxXentShape & { wg?: number }> = {
  name: 'softmax_xent_forward',
  wgsl: withLib(softmaxXentForwardWgsl, xentRowWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'logits:read', 'targets:read', 'probs:rw', 'losses:rw'],
  uniforms: (s) => [u32(s.BT), u32(s.V), i32(s.ignoreIndex ?? IGNORE_INDEX)],
  overrides: (s) => ({ WG: forwardWorkgroup(s) }),
  dispatch: (s) => fold2d(s.BT),
  key: (s) => `softmax_xent_forward/wg${forwardWorkgroup(s)}`,
};

/** What the per-device workgroup choice checks and times (row_select.ts): one ignored row, the rest valid. */
export const softmaxXentForwardRows: RowKernelSpec<SoftmaxXentShape, { logits: Float32Array; targets: Int32Array; probs: Float32Array; losses: Float32Array }> = {
  name: 'softmax_xent_forward', kernel: softmaxXentForwardKernel, rowLength: (s) => s.V,
  withRows: (s, n) => ({ ...s, BT: Math.min(s.BT, n) }),
  inputs: (s) => {
    const u = seededUniform(s.BT, 2);
    const targets = Int32Array.from(u, (v, r) => (r === 1 ? (s.ignoreIndex ?? IGNORE_INDEX) : Math.floor(((v + 1) / 2) * (s.V - 1))));
    return { logits: seededUniform(s.BT * s.V, 1).map((v) => 4 * v), targets, probs: new Float32Array(s.BT * s.V), losses: new Float32Array(s.BT) };
  },
  reference: (s, d) => {
    const out = { probs: new Float32Array(s.BT * s.V), losses: new Float32Array(s.BT) };
    softmaxXentForward(out.losses, out.probs, d.logits, d.targets, s);
    return out;
  },
  tolerance: { atol: 1e-5, rtol: 1e-4 },
};

export const softmaxXentBackwardKernel: KernelDescriptor<SoftmaxXentBackwardShape> = {
  name: 'softmax_xent_backward',
  wgsl: softmaxXentBackwardWgsl,
  bindings: ['dims:uniform', 'probs:read', 'targets:read', 'dlogits:rw'],
  uniforms: (s) => [u32(s.BT), u32(s.V), i32(s.ignoreIndex ?? IGNORE_INDEX), f32(s.scale), u32(s.v0 ?? 0), u32(s.VT ?? s.V)],
  overrides: () => ({ WG: ELEMENT_WG }),
  dispatch: (s) => fold2d(ceilDiv(s.BT * s.V, ELEMENT_WG)),
  key: () => `softmax_xent_backward/wg${ELEMENT_WG}`,
};

export const softmaxXentMeanKernel: KernelDescriptor<SoftmaxXentShape> = {
  name: 'softmax_xent_mean',
  wgsl: softmaxXentMeanWgsl,
  bindings: ['dims:uniform', 'losses:read', 'targets:read', 'loss:rw'],
  uniforms: (s) => [u32(s.BT), i32(s.ignoreIndex ?? IGNORE_INDEX)],
  overrides: () => ({ WG: MEAN_WG }),
  dispatch: () => [1, 1, 1], // one workgroup: a fixed summation order
  key: () => `softmax_xent_mean/wg${MEAN_WG}`,
};

export function checkSoftmaxXentShape(s: SoftmaxXentShape): void {
  for (const d of ['BT', 'V'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`softmax_xent: ${d}=${s[d]} must be a positive integer`);
  }
  // u32 flat indices in the backward.
  if (s.BT * s.V >= 2 ** 32) throw new KernelShapeError(`softmax_xent: BT·V=${s.BT * s.V} overflows u32 indices`);
}

export interface SoftmaxXentForwardBuffers {
  logits: GPUBuffer; // (BT, V)
  targets: GPUBuffer; // (BT) i32
  probs: GPUBuffer; // (BT, V), cached for the backward
  losses: GPUBuffer; // (BT)
}

export async function prepareSoftmaxXentForward(ctx: GpuContext, s: SoftmaxXentShape, buf: SoftmaxXentForwardBuffers) {
  checkSoftmaxXentShape(s);
  const wg = await chooseRowWorkgroup(ctx, softmaxXentForwardRows, s);
  return ctx.prepare(softmaxXentForwardKernel, { ...s, wg }, { ...buf });
}

/** loss (2 floats) = [mean over non-ignored rows, their count]. */
export function prepareSoftmaxXentMean(
  ctx: GpuContext, s: SoftmaxXentShape, buf: { losses: GPUBuffer; targets: GPUBuffer; loss: GPUBuffer },
) {
  checkSoftmaxXentShape(s);
  return ctx.prepare(softmaxXentMeanKernel, s, buf);
}

export function prepareSoftmaxXentBackward(
  ctx: GpuContext, s: SoftmaxXentBackwardShape, buf: { probs: GPUBuffer; targets: GPUBuffer; dlogits: GPUBuffer },
) {
  checkSoftmaxXentShape(s);
  return ctx.prepare(softmaxXentBackwardKernel, s, buf);
}

/** Forward, then the mean, in one submit: what a training step encodes for its loss. */
export async function runSoftmaxXentForward(
  ctx: GpuContext, s: SoftmaxXentShape, buf: SoftmaxXentForwardBuffers & { loss: GPUBuffer },
): Promise<void> {
  const launches = [await prepareSoftmaxXentForward(ctx, s, buf), await prepareSoftmaxXentMean(ctx, s, buf)];
  ctx.submit(launches, 'softmax_xent_forward');
  for (const l of launches) l.destroy();
}

export async function runSoftmaxXentBackward(
  ctx: GpuContext, s: SoftmaxXentBackwardShape, buf: { probs: GPUBuffer; targets: GPUBuffer; dlogits: GPUBuffer },
): Promise<void> {
  const launch = await prepareSoftmaxXentBackward(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}

// ---- The vocabulary in chunks (src/kernels/vocab_split.ts): logits and probs stored as (BT, n_k) buffers.

/** One chunk's launch: columns [v0, v0 + n) of a vocabulary of VT; first/last mark the ends of the walk. */
type ChunkShape = { BT: number; n: number; v0: number; VT: number; first: boolean; last: boolean; ignoreIndex?: number };

export const softmaxXentChunkStatsKernel: KernelDescriptor<ChunkShape> = {
  name: 'softmax_xent_chunk_stats',
  wgsl: withLib(softmaxXentChunkStatsWgsl, xentRowWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'logits:read', 'targets:read', 'stats:rw', 'losses:rw'],
  uniforms: (s) => [u32(s.BT), u32(s.n), i32(s.ignoreIndex ?? IGNORE_INDEX), u32(s.v0), u32(s.VT), u32(s.first ? 1 : 0), u32(s.last ? 1 : 0)],
  overrides: (s) => ({ WG: rowWorkgroup(s.n) }),
  dispatch: (s) => fold2d(s.BT),
  key: (s) => `softmax_xent_chunk_stats/wg${rowWorkgroup(s.n)}`,
};

export const softmaxXentChunkProbsKernel: KernelDescriptor<{ BT: number; n: number }> = {
  name: 'softmax_xent_chunk_probs',
  wgsl: softmaxXentChunkProbsWgsl,
  bindings: ['dims:uniform', 'logits:read', 'stats:read', 'probs:rw'],
  uniforms: (s) => [u32(s.BT), u32(s.n)],
  overrides: () => ({ WG: ELEMENT_WG }),
  dispatch: (s) => fold2d(ceilDiv(s.BT * s.n, ELEMENT_WG)),
  key: () => `softmax_xent_chunk_probs/wg${ELEMENT_WG}`,
};

export interface SoftmaxXentChunkBuffers {
  logits: GPUBuffer[]; // (BT, n_k) per chunk
  targets: GPUBuffer; // (BT) i32
  probs: GPUBuffer[]; // (BT, n_k) per chunk
  stats: GPUBuffer; // (BT, 3) running [max, Σ exp, target logit]
  losses: GPUBuffer; // (BT)
}

/**
 * softmax_xent_forward over a split vocabulary: the statistics chunk by chunk (running max and sum),
 * then each chunk's probs from the whole row's statistics. A single chunk is the fused unchunked kernel.
 * Follow with prepareSoftmaxXentMean, as for the unchunked forward.
 */
export async function prepareSoftmaxXentForwardChunks(
  ctx: GpuContext, s: SoftmaxXentShape, split: VocabSplit, buf: SoftmaxXentChunkBuffers,
): Promise<Launch[]> {
  checkSoftmaxXentShape(s);
  const K = split.chunks.length;
  if (K === 1) return [await prepareSoftmaxXentForward(ctx, s, { logits: buf.logits[0], targets: buf.targets, probs: buf.probs[0], losses: buf.losses })];
  const launches: Launch[] = [];
  for (let k = 0; k < K; k++) {
    const { v0, n } = split.chunks[k];
    launches.push(await ctx.prepare(softmaxXentChunkStatsKernel,
      { BT: s.BT, n, v0, VT: s.V, first: k === 0, last: k === K - 1, ignoreIndex: s.ignoreIndex },
      { logits: buf.logits[k], targets: buf.targets, stats: buf.stats, losses: buf.losses }));
  }
  for (let k = 0; k < K; k++) {
    launches.push(await ctx.prepare(softmaxXentChunkProbsKernel, { BT: s.BT, n: split.chunks[k].n },
      { logits: buf.logits[k], stats: buf.stats, probs: buf.probs[k] }));
  }
  return launches;
}

/** dlogits chunk by chunk (each chunk's one-hot at its own columns); bit-identical to the unchunked backward. */
export async function prepareSoftmaxXentBackwardChunks(
  ctx: GpuContext, s: SoftmaxXentBackwardShape, split: VocabSplit, buf: { probs: GPUBuffer[]; targets: GPUBuffer; dlogits: GPUBuffer[] },
): Promise<Launch[]> {
  checkSoftmaxXentShape(s);
  return Promise.all(split.chunks.map(({ v0, n }, k) => ctx.prepare(softmaxXentBackwardKernel,
    { ...s, V: n, v0, VT: s.V }, { probs: buf.probs[k], targets: buf.targets, dlogits: buf.dlogits[k] })));
}
