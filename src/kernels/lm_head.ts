// The LM head over a vocabulary stored in chunks (src/kernels/vocab_split.ts): W (V, C) held as (n_k, C)
// row chunks, logits as (BT, n_k) column chunks. No kernel of its own: matmuls per chunk (matmul_packed
// when W is a packed BF16/F16 weight, src/kernels/packed.ts).
//   forward:  logits_k = h · W_kᵀ                      (each logit the same dot product as unchunked)
//   backward: dh = Σ_k dlogits_k · W_k                 (chunk 0 writes, the others accumulate: beta = 1)
import type { GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type WeightFormat, prepareWeightMatmul } from './packed';
import type { VocabSplit } from './vocab_split';

function check(split: VocabSplit, W: GPUBuffer[], logits: GPUBuffer[]): void {
  if (W.length !== split.chunks.length || logits.length !== split.chunks.length) {
    throw new KernelShapeError(`lm head: ${W.length} weight and ${logits.length} logits chunks for a split of ${split.chunks.length}`);
  }
}

/** logits (BT, V) = h (BT, C) · Wᵀ, W stored (V, C) = (N, K): transB, chunk by chunk. */
export function prepareLmHeadForward(
  ctx: GpuContext, s: { BT: number; C: number }, split: VocabSplit, buf: { h: GPUBuffer; W: GPUBuffer[]; logits: GPUBuffer[] },
  format: WeightFormat = 'f32',
): Promise<Launch[]> {
  check(split, buf.W, buf.logits);
  return Promise.all(split.chunks.map(({ n }, k) =>
    prepareWeightMatmul(ctx, { M: s.BT, N: n, K: s.C, transB: true }, format, { a: buf.h, w: buf.W[k], c: buf.logits[k] })));
}

/** dh (BT, C) = dlogits (BT, V) · W (V, C): the chunks' products summed in chunk order. Overwrites dh. */
export function prepareLmHeadBackward(
  ctx: GpuContext, s: { BT: number; C: number }, split: VocabSplit, buf: { dlogits: GPUBuffer[]; W: GPUBuffer[]; dh: GPUBuffer },
  format: WeightFormat = 'f32',
): Promise<Launch[]> {
  check(split, buf.W, buf.dlogits);
  return Promise.all(split.chunks.map(({ n }, k) =>
    prepareWeightMatmul(ctx, { M: s.BT, N: s.C, K: n, beta: k === 0 ? 0 : 1 }, format, { a: buf.dlogits[k], w: buf.W[k], c: buf.dh })));
}
