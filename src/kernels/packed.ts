// Frozen weights in their stored precision (docs/kernels.md#packed-weights): BF16/F16 weights stay 2 bytes
// per parameter on the GPU, packed two per u32 (src/ref/packed.ts), and the kernels that read a frozen
// weight have a packed form that unpacks with core WGSL (shaders/lib/unpack_half.wgsl):
//   matmul_packed*         every frozen linear (both layouts, forward and dx), the LM head (tied or not):
//                          three variants chosen per device (packed_variants.ts)
//   embedding_forward_packed   the token gather, chunk by chunk
//   dora_row_norm_packed   DoRA's ‖W + s·B·A‖
// LoRA around a packed W is composed from matmuls (src/kernels/lora.ts). Trainables, gradients and
// optimizer state are never packed.
import embeddingPackedWgsl from '../../shaders/embedding_forward_packed.wgsl?raw';
import doraRowNormPackedWgsl from '../../shaders/dora_row_norm_packed.wgsl?raw';
import unpackHalfWgsl from '../../shaders/lib/unpack_half.wgsl?raw';
import doraRowNormSumWgsl from '../../shaders/lib/dora_row_norm_sum.wgsl?raw';
import embeddingGatherWgsl from '../../shaders/lib/embedding_gather.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32, withLib } from '../gpu/kernel';
import type { DoraWeightShape } from '../ref/dora';
import type { EmbeddingShape } from '../ref/embedding';
import type { MatmulShape } from '../ref/matmul';
import { type WeightFormat, isPackedFormat, packF32, packedWords } from '../ref/packed';
import { checkMatmulShape, prepareMatmul } from './matmul';
import { type PackedMatmulShape, preparePackedMatmul } from './packed_variants';

export { type WeightFormat, isPackedFormat };

/** A frozen weight on the GPU and how its elements are stored. */
export interface FrozenWeight {
  buffer: GPUBuffer;
  format: WeightFormat;
}

type Packed = { f16: boolean };
const halfName = (s: Packed) => (s.f16 ? 'f16' : 'bf16');

const EMB_WG = 64;
export type PackedEmbeddingShape = EmbeddingShape & { v0?: number; rows?: number } & Packed;

export const embeddingForwardPackedKernel: KernelDescriptor<PackedEmbeddingShape> = {
  name: 'embedding_forward_packed',
  wgsl: withLib(embeddingPackedWgsl, embeddingGatherWgsl, unpackHalfWgsl),
  bindings: ['dims:uniform', 'ids:read', 'wte:read', 'wpe:read', 'out:rw'],
  uniforms: (s) => [u32(s.B), u32(s.T), u32(s.C), u32(s.V), u32(s.v0 ?? 0), u32(s.rows ?? s.V)],
  overrides: (s) => ({ WG: EMB_WG, F16: s.f16 ? 1 : 0 }),
  dispatch: (s) => fold2d(ceilDiv(s.B * s.T * s.C, EMB_WG)),
  key: (s) => `embedding_forward_packed/${halfName(s)}/wg${EMB_WG}`,
};

export const doraRowNormPackedKernel: KernelDescriptor<DoraWeightShape & Packed> = {
  name: 'dora_row_norm_packed',
  wgsl: withLib(doraRowNormPackedWgsl, doraRowNormSumWgsl, unpackHalfWgsl),
  bindings: ['dims:uniform', 'w:read', 'lora_a:read', 'lora_b:read', 'norm:rw'],
  uniforms: (s) => [u32(s.IN), u32(s.OUT), u32(s.R), f32(s.scale)],
  overrides: (s) => ({ WG: 64, CONV1D: s.conv1d ? 1 : 0, F16: s.f16 ? 1 : 0 }),
  dispatch: (s) => fold2d(ceilDiv(s.OUT, 64)),
  key: (s) => `dora_row_norm_packed/${halfName(s)}/wg64/${s.conv1d ? 'conv1d' : 'linear'}`,
};

/**
 * c = alpha · a · op(W) + beta · c (+ bias) for a frozen weight W of any format: the device's chosen F32
 * matmul (matmul_select.ts), or its chosen packed variant (packed_variants.ts). Without a bias, `a` stands in for the unused binding.
 */
export async function prepareWeightMatmul(
  ctx: GpuContext, s: MatmulShape, format: WeightFormat | undefined, buf: { a: BufferBinding; w: BufferBinding; c: BufferBinding; bias?: BufferBinding },
): Promise<Launch> {
  if (!isPackedFormat(format)) return prepareMatmul(ctx, s, { a: buf.a, b: buf.w, c: buf.c, bias: buf.bias });
  checkMatmulShape(s);
  if (s.transA || (s.batch ?? 1) !== 1) throw new KernelShapeError('matmul_packed: a packed weight is one matrix, read as B (no transA, no batch)');
  const shape: PackedMatmulShape = { M: s.M, N: s.N, K: s.K, transB: s.transB, alpha: s.alpha, beta: s.beta, hasBias: !!buf.bias, f16: format === 'f16' };
  return preparePackedMatmul(ctx, shape, buf);
}

/** GPU bytes of n frozen parameters held in `format` (words of 4 bytes when packed). */
export const frozenBytes = (n: number, format: WeightFormat): number => (isPackedFormat(format) ? 4 * packedWords(n) : 4 * n);

/**
 * The words to upload for one frozen tensor. Stored BF16/F16 bytes of the same format ARE the flat
 * packing (little-endian, low half first): copied, padded to a whole word. F32 values (an in-memory
 * source, or a tensor already widened) are rounded to the format — exact when they came from it.
 */
export function packedWordsOf(dtype: string, raw: Uint8Array | undefined, data: () => Float32Array, format: 'bf16' | 'f16'): Uint32Array {
  if (raw && dtype === (format === 'bf16' ? 'BF16' : 'F16')) {
    const out = new Uint32Array(packedWords(raw.byteLength >>> 1));
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  return packF32(data(), format);
}
