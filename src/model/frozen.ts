// Frozen base weights onto the GPU in the format the run asked for (docs/engineering.md#frozen-weights):
// 'stored' keeps a BF16/F16 checkpoint's 2-D weights (every linear, the embedding, the head) at 2 bytes per
// parameter, packed two per u32 (src/ref/packed.ts); 'f32' widens everything. Norm weights and biases are
// tiny and always F32. One tensor at a time: read its bytes → pack or convert → one writeBuffer → dropped.
import type { GpuContext } from '../gpu/context';
import { type FrozenWeight, type WeightFormat, packedWordsOf } from '../kernels/packed';
import type { VocabSplit } from '../kernels/vocab_split';

/** How a run holds its frozen weights: their stored precision (BF16/F16 packed, F32 as F32), or all F32. */
export type FrozenWeights = 'stored' | 'f32';

/** A canonical tensor as the engines read it; `dtype` and `raw` only when the source has them (a file). */
export interface FrozenTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  readonly dtype?: string;
}

/** The GPU format of a frozen 2-D weight stored as `dtype`. */
export function frozenFormat(dtype: string | undefined, choice: FrozenWeights): WeightFormat {
  if (choice === 'f32') return 'f32';
  return dtype === 'BF16' ? 'bf16' : dtype === 'F16' ? 'f16' : 'f32';
}

/**
 * The tensor's stored bytes when they are in memory without a read (an in-memory file); a streamed
 * tensor keeps only its widened values (src/io/safetensors/ranged.ts), which pack back exactly.
 */
function storedBytes(t: FrozenTensor): Uint8Array | undefined {
  const s = t as { resident?: boolean; raw?: Uint8Array };
  if ('resident' in s) return undefined;
  return s.raw;
}

/** Elements, from the shape (reading `data` would widen an in-memory BF16 tensor to F32 and keep it). */
const numel = (t: FrozenTensor): number => t.shape.reduce((n, d) => n * d, 1);

/** Uploads elements [begin, end) of one frozen tensor in `format`. */
function uploadRange(ctx: GpuContext, label: string, t: FrozenTensor, format: WeightFormat, begin: number, end: number): GPUBuffer {
  if (format === 'f32') return ctx.upload(label, t.data.subarray(begin, end));
  const raw = storedBytes(t)?.subarray(2 * begin, 2 * end);
  return ctx.upload(label, packedWordsOf(t.dtype ?? 'F32', raw, () => t.data.subarray(begin, end), format));
}

/** One frozen 2-D weight, whole. */
export function uploadFrozen(ctx: GpuContext, name: string, t: FrozenTensor, choice: FrozenWeights): FrozenWeight {
  const format = frozenFormat(t.dtype, choice);
  return { buffer: uploadRange(ctx, name, t, format, 0, numel(t)), format };
}

/**
 * A (V, C) matrix in the split's row chunks (src/kernels/vocab_split.ts), each chunk packed from its own
 * first element (so a chunk always starts at a word, whatever C's parity).
 */
export function uploadFrozenRows(ctx: GpuContext, name: string, t: FrozenTensor, C: number, split: VocabSplit, choice: FrozenWeights): { chunks: GPUBuffer[]; format: WeightFormat } {
  const format = frozenFormat(t.dtype, choice);
  if (split.chunks.length === 1) return { chunks: [uploadRange(ctx, name, t, format, 0, numel(t))], format };
  return { chunks: split.chunks.map(({ v0, n }) => uploadRange(ctx, `${name}[${v0}:${v0 + n}]`, t, format, v0 * C, (v0 + n) * C)), format };
}
