// embedding family: token + position embedding forward, deterministic scatter-add backward.
// See shaders/embedding_forward.wgsl and shaders/embedding_backward.wgsl.
import embeddingForwardWgsl from '../../shaders/embedding_forward.wgsl?raw';
import embeddingBackwardWgsl from '../../shaders/embedding_backward.wgsl?raw';
import embeddingGatherWgsl from '../../shaders/lib/embedding_gather.wgsl?raw';
import type { GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { EmbeddingShape } from '../ref/embedding';
import { type KernelDescriptor, ceilDiv, fold2d, u32, withLib } from '../gpu/kernel';
import { type WeightFormat, embeddingForwardPackedKernel, isPackedFormat } from './packed';
import type { VocabSplit } from './vocab_split';

export type { EmbeddingShape };

const WG = 64;
const dims = (s: EmbeddingShape) => [u32(s.B), u32(s.T), u32(s.C), u32(s.V)];

/** The forward's shape: which rows [v0, v0 + rows) of the table this launch's `wte` holds (the whole table by default). */
export type EmbeddingChunkShape = EmbeddingShape & { v0?: number; rows?: number };

export const embeddingForwardKernel: KernelDescriptor<EmbeddingChunkShape> = {
  name: 'embedding_forward',
  wgsl: withLib(embeddingForwardWgsl, embeddingGatherWgsl),
  bindings: ['dims:uniform', 'ids:read', 'wte:read', 'wpe:read', 'out:rw'],
  uniforms: (s) => [...dims(s), u32(s.v0 ?? 0), u32(s.rows ?? s.V)],
  overrides: () => ({ WG }),
  dispatch: (s) => fold2d(ceilDiv(s.B * s.T * s.C, WG)),
  key: () => `embedding_forward/wg${WG}`,
};

export const embeddingBackwardKernel: KernelDescriptor<EmbeddingShape> = {
  name: 'embedding_backward',
  wgsl: embeddingBackwardWgsl,
  bindings: ['dims:uniform', 'ids:read', 'dout:read', 'dwte:rw', 'dwpe:rw'],
  uniforms: dims,
  overrides: () => ({ WG }),
  dispatch: (s) => fold2d(ceilDiv(s.C, WG)),
  key: () => `embedding_backward/wg${WG}`,
};

export function checkEmbeddingShape(s: EmbeddingShape): void {
  for (const d of ['B', 'T', 'C', 'V', 'maxT'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`embedding: ${d}=${s[d]} must be a positive integer`);
  }
  if (s.T > s.maxT) throw new KernelShapeError(`embedding: T=${s.T} exceeds the ${s.maxT} rows of wpe (n_positions)`);
}

/** Host-side id check before upload; the shaders only clamp, so a bad id must be caught here. */
export function validateIds(ids: Uint32Array, V: number): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= V) throw new KernelShapeError(`embedding: token id ${ids[i]} at position ${i} is ≥ vocab size V=${V}`);
  }
}

export interface EmbeddingForwardBuffers {
  ids: GPUBuffer;
  wte: GPUBuffer;
  wpe: GPUBuffer;
  out: GPUBuffer;
}

export interface EmbeddingBackwardBuffers {
  ids: GPUBuffer;
  dout: GPUBuffer;
  dwte: GPUBuffer;
  dwpe: GPUBuffer;
}

export async function prepareEmbeddingForward(ctx: GpuContext, s: EmbeddingShape, buf: EmbeddingForwardBuffers): Promise<Launch> {
  checkEmbeddingShape(s);
  return ctx.prepare(embeddingForwardKernel, s, { ...buf });
}

/**
 * The forward over a table stored in vocabulary chunks (src/kernels/vocab_split.ts): one launch per
 * chunk, each writing the positions whose id lies in its rows. Bit-identical to the whole-table launch.
 */
export async function prepareEmbeddingForwardChunks(
  ctx: GpuContext, s: EmbeddingShape, split: VocabSplit, buf: Omit<EmbeddingForwardBuffers, 'wte'> & { wte: GPUBuffer[] },
  format: WeightFormat = 'f32',
): Promise<Launch[]> {
  checkEmbeddingShape(s);
  if (buf.wte.length !== split.chunks.length) throw new KernelShapeError(`embedding: ${buf.wte.length} table chunks for a split of ${split.chunks.length}`);
  return Promise.all(split.chunks.map(({ v0, n }, k) => {
    const bufs = { ids: buf.ids, wte: buf.wte[k], wpe: buf.wpe, out: buf.out };
    // A packed table (BF16/F16, src/kernels/packed.ts): each chunk packed from its own first row.
    if (isPackedFormat(format)) return ctx.prepare(embeddingForwardPackedKernel, { ...s, v0, rows: n, f16: format === 'f16' }, bufs);
    return ctx.prepare(embeddingForwardKernel, { ...s, v0, rows: n }, bufs);
  }));
}

/** Accumulates into dwte and dwpe (`+=`): zero them first for a fresh gradient. */
export async function prepareEmbeddingBackward(ctx: GpuContext, s: EmbeddingShape, buf: EmbeddingBackwardBuffers): Promise<Launch> {
  checkEmbeddingShape(s);
  return ctx.prepare(embeddingBackwardKernel, s, { ...buf });
}

export async function runEmbeddingForward(ctx: GpuContext, s: EmbeddingShape, buf: EmbeddingForwardBuffers): Promise<void> {
  const launch = await prepareEmbeddingForward(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}

export async function runEmbeddingBackward(ctx: GpuContext, s: EmbeddingShape, buf: EmbeddingBackwardBuffers): Promise<void> {
  const launch = await prepareEmbeddingBackward(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}
