// Frozen GPT-2 base weights on the GPU: every canonical tensor of loadModelDir uploaded once, as F32,
// in its file layout (Conv1D weights stay [in, out]; docs/formats.md#gpt2), each buffer labelled by its
// canonical name. Nothing here ever receives a gradient. One tensor at a time (../frozen.ts). The blocks' weights are named by the spec
// (../families/gpt2.ts) and uploaded by the block engine (../block.ts).
import type { GpuContext } from '../../gpu/context';
import type { LoadedGpt2 } from '../../io/hfModel';
import type { Gpt2Config } from '../../io/hfModel/config';
import { type VocabSplit, wholeBuffer } from '../../kernels/vocab_split';
import type { BlockWeights, LinearDims } from '../block';
import { uploadF32, uploadFrozenBlocks, uploadFrozenRows } from '../frozen';
import type { FamilySpec } from '../families/spec';

import { GPT2_MODULES, type Gpt2Module } from '../../io/hfModel/layout';

export { GPT2_MODULES, type Gpt2Module };

/** (in, out) widths of each of the block's four Conv1D modules. */
export function moduleDims(c: Gpt2Config, m: Gpt2Module): { IN: number; OUT: number } {
  const C = c.n_embd;
  switch (m) {
    case 'attn.c_attn': return { IN: C, OUT: 3 * C };
    case 'attn.c_proj': return { IN: C, OUT: C };
    case 'mlp.c_fc': return { IN: C, OUT: c.n_inner };
    case 'mlp.c_proj': return { IN: c.n_inner, OUT: C };
  }
}

export interface Gpt2Weights {
  /** (V, C) in vocabulary row chunks that each fit the binding limit (one chunk on most devices); also the LM head (tied). */
  wteChunks: GPUBuffer[];
  vocab: VocabSplit;
  /** wte whole: for a path without a chunked form (none in the engine or generation today); refuses when split. */
  readonly wte: GPUBuffer;
  wpe: GPUBuffer; // (n_positions, C)
  layers: BlockWeights[]; // L entries
  lnfw: GPUBuffer; // (C)
  lnfb: GPUBuffer; // (C)
  /** Every uploaded buffer by canonical name (for destroy and inspection). */
  byName: Map<string, GPUBuffer>;
}

/**
 * `vocab`: how wte is split (splitVocab for the model's B·T; src/kernels/vocab_split.ts). One tensor at a
 * time (../frozen.ts): a streamed source is read, uploaded and dropped tensor by tensor. `onLinear` sees
 * each Conv1D weight's values during its upload (DoRA's base row norms).
 */
export async function uploadGpt2Weights(
  ctx: GpuContext, loaded: LoadedGpt2, spec: FamilySpec, vocab: VocabSplit,
  onLinear?: (name: string, dims: LinearDims, data: Float32Array) => void,
): Promise<Gpt2Weights> {
  const byName = new Map<string, GPUBuffer>();
  const tensor = (name: string) => {
    const t = loaded.tensors.get(name);
    if (!t) throw new Error(`GPT-2 engine: canonical tensor ${name} is missing from the loaded model`);
    return t;
  };
  const layers = await uploadFrozenBlocks(ctx, spec, loaded.tensors, 'f32', byName, onLinear);
  const get = async (name: string): Promise<GPUBuffer> => {
    const buf = await uploadF32(ctx, name, tensor(name));
    byName.set(name, buf);
    return buf;
  };
  const wpe = await get('wpe.weight'), lnfw = await get('ln_f.weight'), lnfb = await get('ln_f.bias');
  const wteChunks = (await uploadFrozenRows(ctx, 'wte.weight', tensor('wte.weight'), loaded.config.n_embd, vocab, 'f32')).chunks;
  return { wteChunks, vocab, get wte() { return wholeBuffer(wteChunks, 'wte.weight', vocab); }, wpe, layers, lnfw, lnfb, byName };
}

export function destroyGpt2Weights(w: Gpt2Weights): void {
  for (const b of w.byName.values()) b.destroy();
  for (const b of w.wteChunks) b.destroy();
}
