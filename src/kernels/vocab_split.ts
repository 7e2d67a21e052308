// Vocabulary splits: how a (V, C) embedding / LM-head matrix and the (B·T, V) logits and probs are cut
// into row chunks [v0, v0 + n) of the vocabulary so that every buffer fits the device's binding limit
// (Qwen's 151,936 × 896 embedding is 545 MB in F32; most devices bind 128 MiB by default).
// One split serves the weights, the logits and the probs together: chunk k of the logits is
// lnf · W_kᵀ, so the head matmul, the cross-entropy and its backward all walk the same chunks.
import type { GpuContext } from '../gpu/context';
import { GpuLimitError } from '../gpu/errors';

export interface VocabChunk {
  v0: number; // first vocabulary row of the chunk
  n: number; // rows in the chunk
}

export interface VocabSplit {
  V: number;
  chunks: VocabChunk[];
}

/** One chunk: the whole vocabulary (every device that can bind the tensor whole). */
export const wholeVocab = (V: number): VocabSplit => ({ V, chunks: [{ v0: 0, n: V }] });

/**
 * The fewest equal chunks (the last one shorter) whose (n, C) weight rows and (BT, n) logits each fit
 * `ctx.maxTensorBytes`. Chunks hold a multiple of 4 rows when they can, so the head matmuls keep
 * their vec4 kernels. Refuses, naming the limit and the tensor, when even one row cannot fit.
 */
export function splitVocab(ctx: Pick<GpuContext, 'maxTensorBytes' | 'limits'>, V: number, C: number, BT: number, what: string): VocabSplit {
  const limit = ctx.maxTensorBytes;
  const limitName = ctx.limits.maxStorageBufferBindingSize <= ctx.limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  if (C * 4 > limit) throw new GpuLimitError(limitName, C * 4, limit, `one row of ${what} (C=${C} F32)`);
  if (BT * 4 > limit) throw new GpuLimitError(limitName, BT * 4, limit, `one vocabulary column of the logits (B·T=${BT} F32)`);
  const fit = Math.floor(limit / (4 * Math.max(C, BT)));
  if (fit >= V) return wholeVocab(V);
  const count = Math.ceil(V / (fit >= 4 ? fit - (fit % 4) : fit));
  let n = Math.ceil(V / count);
  if (n % 4 && n + (4 - (n % 4)) <= fit) n += 4 - (n % 4);
  const chunks: VocabChunk[] = [];
  for (let v0 = 0; v0 < V; v0 += n) chunks.push({ v0, n: Math.min(n, V - v0) });
  return { V, chunks };
}

/** Uploads rows [v0, v0 + n) of a (V, C) F32 matrix as one buffer per chunk, labelled `name[v0:v1]`. */
export function uploadVocabRows(ctx: GpuContext, name: string, data: Float32Array, C: number, split: VocabSplit): GPUBuffer[] {
  if (split.chunks.length === 1) return [ctx.upload(name, data)];
  return split.chunks.map(({ v0, n }) => ctx.upload(`${name}[${v0}:${v0 + n}]`, data.subarray(v0 * C, (v0 + n) * C)));
}

/** One (rows, n) buffer per chunk: logits, probs. */
export function planVocabColumns(ctx: Pick<GpuContext, 'createBuffer'>, label: string, rows: number, split: VocabSplit): GPUBuffer[] {
  if (split.chunks.length === 1) return [ctx.createBuffer(label, rows * split.V * 4)];
  return split.chunks.map(({ v0, n }) => ctx.createBuffer(`${label}[:, ${v0}:${v0 + n}]`, rows * n * 4));
}

/** Reads chunked (rows, n_k) buffers back as one (rows, V) array. */
export async function readVocabColumns(ctx: GpuContext, bufs: GPUBuffer[], rows: number, split: VocabSplit): Promise<Float32Array> {
  if (split.chunks.length === 1) return ctx.readF32(bufs[0], rows * split.V);
  const out = new Float32Array(rows * split.V);
  for (let k = 0; k < split.chunks.length; k++) {
    const { v0, n } = split.chunks[k];
    const part = await ctx.readF32(bufs[k], rows * n);
    for (let r = 0; r < rows; r++) out.set(part.subarray(r * n, (r + 1) * n), r * split.V + v0);
  }
  return out;
}

/** The chunk holding vocabulary row `id` and the row's index inside it (a token's embedding row). */
export function vocabRow(split: VocabSplit, id: number): { k: number; row: number } {
  if (!Number.isInteger(id) || id < 0 || id >= split.V) throw new Error(`vocabulary row ${id} is outside [0, ${split.V})`);
  const k = split.chunks.findIndex(({ v0, n }) => id < v0 + n);
  return { k, row: id - split.chunks[k].v0 };
}

/** Row `r` of chunked (rows, n_k) logits as one (V) array: one small readback per chunk (generation's last position). */
export async function readVocabRow(ctx: GpuContext, bufs: GPUBuffer[], r: number, split: VocabSplit): Promise<Float32Array> {
  if (bufs.length !== split.chunks.length) throw new Error(`${bufs.length} logits chunks for a split of ${split.chunks.length}`);
  const out = new Float32Array(split.V);
  for (let k = 0; k < split.chunks.length; k++) {
    const { v0, n } = split.chunks[k];
    out.set(new Float32Array(await ctx.read(bufs[k], n * 4, r * n * 4)), v0);
  }
  return out;
}

/** The one buffer of an unsplit tensor; a split one refuses in one line (for paths that have no chunked form yet). */
export function wholeBuffer(bufs: GPUBuffer[], what: string, split: VocabSplit): GPUBuffer {
  if (bufs.length === 1) return bufs[0];
  throw new Error(`${what} is split into ${split.chunks.length} vocabulary chunks (the device's binding limit); this path needs it whole`);
}
