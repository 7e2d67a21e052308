// Frozen base weights onto the GPU in the format the run asked for (docs/engineering.md#frozen-weights):
// 'stored' keeps a BF16/F16 checkpoint's 2-D weights (every linear, the embedding, the head) at 2 bytes per
// parameter, packed two per u32 (src/ref/packed.ts); 'f32' widens everything. Norm weights and biases are
// tiny and always F32. One tensor at a time: read its bytes → pack or convert → one writeBuffer → dropped;
// a streamed tensor still on disk is read here (so a streamed load never holds the model in JS).
import type { GpuContext } from '../gpu/context';
import { type FrozenWeight, type WeightFormat, packedWordsOf } from '../kernels/packed';
import type { VocabSplit } from '../kernels/vocab_split';
import { isStreamed, type SafetensorsTensor, toFloat32 } from '../io/safetensors';
import { type BlockWeights, type LinearDims, blockTensors, uploadBlocks } from './block';
import type { FamilySpec } from './families/spec';

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
 * tensor that was fetched keeps only its widened values (src/io/safetensors/ranged.ts), which pack back exactly.
 */
function storedBytes(t: FrozenTensor): Uint8Array | undefined {
  const s = t as { resident?: boolean; raw?: Uint8Array };
  if ('resident' in s) return undefined;
  return s.raw;
}

/** One tensor's values for one upload: its stored bytes when at hand, and its F32 values on demand. */
interface TensorValues {
  raw: Uint8Array | undefined;
  data(): Float32Array;
}

/**
 * A streamed tensor still on disk is read now (one ranged read) and nothing of it is kept once the
 * caller drops the result; anything else (in memory, or already fetched) gives its own arrays.
 */
async function valuesOf(t: FrozenTensor): Promise<TensorValues> {
  const st = t as unknown as SafetensorsTensor;
  if (isStreamed(st) && !st.resident) {
    const raw = await st.bytes();
    let data: Float32Array | undefined;
    return { raw, data: () => (data ??= toFloat32(raw, st.dtype, st.file, st.name)) };
  }
  return { raw: storedBytes(t), data: () => t.data };
}

/** Elements, from the shape (reading `data` would widen an in-memory BF16 tensor to F32 and keep it). */
const numel = (t: FrozenTensor): number => t.shape.reduce((n, d) => n * d, 1);

/** Uploads elements [begin, end) of one frozen tensor in `format`, counted as 'weights' (the memory plan's category). */
function uploadRange(ctx: GpuContext, label: string, v: TensorValues, dtype: string | undefined, format: WeightFormat, begin: number, end: number): GPUBuffer {
  if (format === 'f32') return ctx.upload(label, v.data().subarray(begin, end), 'weights');
  return ctx.upload(label, packedWordsOf(dtype ?? 'F32', v.raw?.subarray(2 * begin, 2 * end), () => v.data().subarray(begin, end), format), 'weights');
}

/** Sees a frozen tensor's F32 values while they are at hand during its upload (DoRA's base row norms). */
export type ValuesHook = (data: Float32Array) => void;

/** A tensor that is always F32 on the GPU (norm weights, biases, position tables), read and uploaded whole. */
export async function uploadF32(ctx: GpuContext, label: string, t: FrozenTensor): Promise<GPUBuffer> {
  return ctx.upload(label, (await valuesOf(t)).data(), 'weights');
}

/** One frozen 2-D weight, whole. */
export async function uploadFrozen(ctx: GpuContext, name: string, t: FrozenTensor, choice: FrozenWeights, hook?: ValuesHook): Promise<FrozenWeight> {
  const format = frozenFormat(t.dtype, choice);
  const v = await valuesOf(t);
  if (hook) hook(v.data());
  return { buffer: uploadRange(ctx, name, v, t.dtype, format, 0, numel(t)), format };
}

/**
 * A (V, C) matrix in the split's row chunks (src/kernels/vocab_split.ts), each chunk packed from its own
 * first element (so a chunk always starts at a word, whatever C's parity). Read once for all its chunks.
 */
export async function uploadFrozenRows(
  ctx: GpuContext, name: string, t: FrozenTensor, C: number, split: VocabSplit, choice: FrozenWeights,
): Promise<{ chunks: GPUBuffer[]; format: WeightFormat }> {
  const format = frozenFormat(t.dtype, choice);
  const v = await valuesOf(t);
  if (split.chunks.length === 1) return { chunks: [uploadRange(ctx, name, v, t.dtype, format, 0, numel(t))], format };
  return { chunks: split.chunks.map(({ v0, n }) => uploadRange(ctx, `${name}[${v0}:${v0 + n}]`, v, t.dtype, format, v0 * C, (v0 + n) * C)), format };
}

/**
 * Every block's frozen tensors uploaded one at a time in uploadBlocks' order (linears in the run's
 * format, the rest F32), each into `byName`, then the blocks assembled from those buffers. `onLinear`
 * sees each linear weight's F32 values while they are at hand (DoRA's base row norms).
 */
export async function uploadFrozenBlocks(
  ctx: GpuContext, spec: FamilySpec, tensors: ReadonlyMap<string, FrozenTensor>, choice: FrozenWeights, byName: Map<string, GPUBuffer>,
  onLinear?: (name: string, dims: LinearDims, data: Float32Array) => void,
): Promise<BlockWeights[]> {
  const tensor = (name: string): FrozenTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${spec.family} engine: canonical tensor ${name} is missing from the loaded model`);
    return t;
  };
  const formats = new Map<string, WeightFormat>();
  for (const { name, dims } of blockTensors(spec, tensors)) {
    if (byName.has(name)) continue;
    if (!dims) {
      byName.set(name, await uploadF32(ctx, name, tensor(name)));
      continue;
    }
    const w = await uploadFrozen(ctx, name, tensor(name), choice, onLinear && ((data) => onLinear(name, dims, data)));
    byName.set(name, w.buffer);
    formats.set(name, w.format);
  }
  const get = (name: string) => byName.get(name) as GPUBuffer;
  return uploadBlocks(spec, tensors, get, (name) => ({ buffer: get(name), format: formats.get(name) ?? 'f32' }));
}
