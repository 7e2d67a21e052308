// Frozen ViT backbone weights on the GPU, uploaded once (docs/engineering.md#frozen-arena), one tensor at
// a time (docs/engineering.md#frozen-weights). Canonical names from src/io/hfModel (no `vit.` prefix);
// nn.Linear weights stay [out, in] as stored — the matmul and LoRA kernels read them transposed, so
// nothing is re-laid-out here.
import type { GpuContext } from '../../gpu/context';
import type { LoadedVit } from '../../io/hfModel';
import type { VitConfig } from '../../io/hfModel/config';
import type { BlockWeights, LinearDims } from '../block';
import { uploadF32, uploadFrozenBlocks } from '../frozen';
import type { FamilySpec } from '../families/spec';

import { VIT_LINEAR_MODULES, type VitLinearModule } from '../../io/hfModel/layout';

export { VIT_LINEAR_MODULES, type VitLinearModule };

export interface VitWeights {
  cls: GPUBuffer; // (C) embeddings.cls_token (1, 1, C)
  pos: GPUBuffer; // (T, C) embeddings.position_embeddings (1, P + 1, C)
  patchW: GPUBuffer; // (C, Cin, p, p) = (C, Cin·p·p) Conv2d weight, read as an [out, in] matrix
  patchB: GPUBuffer; // (C)
  layers: BlockWeights[];
  lnfW: GPUBuffer; // (C) final layernorm
  lnfB: GPUBuffer; // (C)
}

/** (IN, OUT) of each Linear: the MLP widens C → I and narrows back. */
export function linearDims(cfg: VitConfig, m: VitLinearModule): { IN: number; OUT: number } {
  const C = cfg.hidden_size, I = cfg.intermediate_size;
  if (m === 'intermediate.dense') return { IN: C, OUT: I };
  if (m === 'output.dense') return { IN: I, OUT: C };
  return { IN: C, OUT: C };
}

/**
 * One tensor at a time (../frozen.ts): a streamed source is read, uploaded as F32 (ViT has no packed
 * kernels; F16/BF16 widen) and dropped tensor by tensor; an in-memory one gives its arrays. Each buffer is
 * labelled by its canonical name. `onLinear` sees each block Linear's values during its upload (DoRA's
 * base row norms).
 */
export async function uploadVitWeights(
  ctx: GpuContext, loaded: LoadedVit, spec: FamilySpec, onLinear?: (name: string, dims: LinearDims, data: Float32Array) => void,
): Promise<VitWeights> {
  const byName = new Map<string, GPUBuffer>();
  const all: GPUBuffer[] = [];
  try {
    const layers = await uploadFrozenBlocks(ctx, spec, loaded.tensors, 'f32', byName, onLinear);
    const up = async (name: string): Promise<GPUBuffer> => {
      const t = loaded.tensors.get(name);
      if (!t) throw new Error(`ViT weights: tensor '${name}' is missing`);
      const b = await uploadF32(ctx, name, t);
      all.push(b);
      return b;
    };
    const w = {
      cls: await up('embeddings.cls_token'),
      pos: await up('embeddings.position_embeddings'),
      patchW: await up('embeddings.patch_embeddings.projection.weight'),
      patchB: await up('embeddings.patch_embeddings.projection.bias'),
      layers,
      lnfW: await up('layernorm.weight'),
      lnfB: await up('layernorm.bias'),
    };
    uploaded.set(w, [...byName.values(), ...all]);
    return w;
  } catch (e) {
    // A failed read (a truncated file, a lost drive) leaves no half-uploaded model on the GPU.
    for (const b of [...byName.values(), ...all]) b.destroy();
    throw e;
  }
}

const uploaded = new WeakMap<VitWeights, GPUBuffer[]>();

export function destroyVitWeights(w: VitWeights): void {
  for (const b of uploaded.get(w) ?? []) b.destroy();
}
