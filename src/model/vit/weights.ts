// Frozen ViT backbone weights on the GPU, uploaded once (docs/engineering.md#frozen-arena). Canonical
// names from src/io/hfModel (no `vit.` prefix); nn.Linear weights stay [out, in] as stored — the
// matmul and LoRA kernels read them transposed, so nothing is re-laid-out here.
import type { GpuContext } from '../../gpu/context';
import type { LoadedVit } from '../../io/hfModel';
import type { VitConfig } from '../../io/hfModel/config';
import { type BlockWeights, uploadBlocks } from '../block';
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

export function uploadVitWeights(ctx: GpuContext, loaded: LoadedVit, spec: FamilySpec): VitWeights {
  const all: GPUBuffer[] = [];
  const up = (name: string): GPUBuffer => {
    const t = loaded.tensors.get(name);
    if (!t) throw new Error(`ViT weights: tensor '${name}' is missing`);
    const b = ctx.upload(`vit/${name}`, t.data);
    all.push(b);
    return b;
  };
  const layers = uploadBlocks(spec, loaded.tensors, up);
  const w = {
    cls: up('embeddings.cls_token'),
    pos: up('embeddings.position_embeddings'),
    patchW: up('embeddings.patch_embeddings.projection.weight'),
    patchB: up('embeddings.patch_embeddings.projection.bias'),
    layers,
    lnfW: up('layernorm.weight'),
    lnfB: up('layernorm.bias'),
  };
  uploaded.set(w, all);
  return w;
}

const uploaded = new WeakMap<VitWeights, GPUBuffer[]>();

export function destroyVitWeights(w: VitWeights): void {
  for (const b of uploaded.get(w) ?? []) b.destroy();
}
