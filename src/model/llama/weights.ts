// Frozen Llama-family base weights on the GPU: every canonical tensor uploaded once in its file layout
// (nn.Linear [out, in]), labelled by its canonical name, plus the rotary cos/sin tables (../rotary.ts).
// The linears, embed_tokens and lm_head keep a BF16/F16 checkpoint's precision, packed two per u32,
// unless the run asks for F32 (../frozen.ts); the norms are F32.
// The blocks' weights are named by the spec (../families/llama.ts) and uploaded by ../block.ts. Nothing
// here receives a gradient.
import type { GpuContext } from '../../gpu/context';
import type { WeightFormat } from '../../kernels/packed';
import { type VocabSplit, wholeBuffer } from '../../kernels/vocab_split';
import type { BlockWeights, LinearDims } from '../block';
import type { LlamaSource } from '../families/llama';
import type { FamilySpec } from '../families/spec';
import { type FrozenWeights, uploadF32, uploadFrozenBlocks, uploadFrozenRows } from '../frozen';
import { type RopeTables, destroyRopeTables, uploadRopeTables } from '../rotary';
import { LLAMA_EMBED, LLAMA_FINAL_NORM, LLAMA_LM_HEAD } from './reference';

export interface LlamaWeights {
  /** (V, C) embed_tokens in vocabulary row chunks that each fit the binding limit (one chunk on most devices). */
  embedChunks: GPUBuffer[];
  /** (V, C) lm_head in the same chunks, or embedChunks itself when tied. */
  headChunks: GPUBuffer[];
  /** How embed_tokens and lm_head are held (F32, or packed BF16/F16). */
  embedFormat: WeightFormat;
  headFormat: WeightFormat;
  vocab: VocabSplit;
  /** embed_tokens / the head whole: for a path without a chunked form (none in the engine or generation today); refuse when split. */
  readonly embed: GPUBuffer;
  readonly head: GPUBuffer;
  norm: GPUBuffer; // (C) the final RMSNorm
  /** (T, C) zeros: the embedding kernel adds a position row, and Llama has none (x + 0 = x exactly). */
  noPositions: GPUBuffer;
  layers: BlockWeights[];
  rope: RopeTables;
  byName: Map<string, GPUBuffer>;
}

/**
 * P: positions the rope table covers (the longest pass this model runs). vocab: how the (V, C) matrices
 * are split (splitVocab for the model's B·T; src/kernels/vocab_split.ts). One tensor at a time (../frozen.ts):
 * a streamed source is read, uploaded and dropped tensor by tensor. `onLinear` sees each block linear's
 * F32 values during its upload (DoRA's base row norms).
 */
export async function uploadLlamaWeights(
  ctx: GpuContext, src: LlamaSource, spec: FamilySpec, P: number, vocab: VocabSplit, frozen: FrozenWeights = 'stored',
  onLinear?: (name: string, dims: LinearDims, data: Float32Array) => void,
): Promise<LlamaWeights> {
  const byName = new Map<string, GPUBuffer>();
  const tensor = (name: string) => {
    const t = src.tensors.get(name);
    if (!t) throw new Error(`${spec.family} engine: canonical tensor ${name} is missing from the loaded model`);
    return t;
  };
  const layers = await uploadFrozenBlocks(ctx, spec, src.tensors, frozen, byName, onLinear);
  const norm = await uploadF32(ctx, LLAMA_FINAL_NORM, tensor(LLAMA_FINAL_NORM));
  byName.set(LLAMA_FINAL_NORM, norm);
  const embed = await uploadFrozenRows(ctx, LLAMA_EMBED, tensor(LLAMA_EMBED), spec.C, vocab, frozen);
  const head = src.tied ? embed : await uploadFrozenRows(ctx, LLAMA_LM_HEAD, tensor(LLAMA_LM_HEAD), spec.C, vocab, frozen);
  const embedChunks = embed.chunks, headChunks = head.chunks;
  const [noPositions, rope] = ctx.allocations.during('weights', () => [ctx.createBuffer('no_positions', P * spec.C * 4), uploadRopeTables(ctx, spec, P)] as const);
  return {
    embedChunks, headChunks, vocab, embedFormat: embed.format, headFormat: head.format,
    get embed() { return wholeBuffer(embedChunks, LLAMA_EMBED, vocab); },
    get head() { return wholeBuffer(headChunks, src.tied ? LLAMA_EMBED : LLAMA_LM_HEAD, vocab); },
    norm, noPositions, layers, rope, byName,
  };
}

export function destroyLlamaWeights(w: LlamaWeights): void {
  for (const b of w.byName.values()) b.destroy();
  for (const b of new Set([...w.embedChunks, ...w.headChunks])) b.destroy();
  w.noPositions.destroy();
  destroyRopeTables(w.rope);
}
