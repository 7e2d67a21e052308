// Frozen ViT backbone weights on the GPU, uploaded once (STYLE.md §9: the frozen arena). Canonical
// names from src/io/hfModel (no `vit.` prefix); nn.Linear weights stay [out, in] as stored — the
// matmul and LoRA kernels read them transposed, so nothing is re-laid-out here.
import type { GpuContext } from '../../gpu/context';
import type { LoadedVit } from '../../io/hfModel';
import type { VitConfig } from '../../io/hfModel/config';
import type { FrozenLinear } from '../adaptedLinear';

import { VIT_LINEAR_MODULES, type VitLinearModule } from '../../io/hfModel/layout';

export { VIT_LINEAR_MODULES, type VitLinearModule };

export interface VitLayerWeights {
  ln1w: GPUBuffer; // (C) layernorm_before
  ln1b: GPUBuffer; // (C)
  ln2w: GPUBuffer; // (C) layernorm_after
  ln2b: GPUBuffer; // (C)
  linear: Record<VitLinearModule, FrozenLinear>; // nn.Linear [out, in]; query/key/value biases only with qkv_bias
}

export interface VitWeights {
  cls: GPUBuffer; // (C) embeddings.cls_token (1, 1, C)
  pos: GPUBuffer; // (T, C) embeddings.position_embeddings (1, P + 1, C)
  patchW: GPUBuffer; // (C, Cin, p, p) = (C, Cin·p·p) Conv2d weight, read as an [out, in] matrix
  patchB: GPUBuffer; // (C)
  layers: VitLayerWeights[];
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

export function uploadVitWeights(ctx: GpuContext, loaded: LoadedVit): VitWeights {
  const cfg = loaded.config;
  const get = (name: string): Float32Array => {
    const t = loaded.tensors.get(name);
    if (!t) throw new Error(`ViT weights: tensor '${name}' is missing`);
    return t.data;
  };
  const up = (name: string) => ctx.upload(`vit/${name}`, get(name));
  const layers: VitLayerWeights[] = [];
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}.`;
    const linear = {} as Record<VitLinearModule, FrozenLinear>;
    for (const m of VIT_LINEAR_MODULES) {
      const hasBias = loaded.tensors.has(`${p}${m}.bias`);
      linear[m] = { w: up(`${p}${m}.weight`), b: hasBias ? up(`${p}${m}.bias`) : undefined, layout: 'linear', ...linearDims(cfg, m) };
    }
    layers.push({
      ln1w: up(`${p}layernorm_before.weight`), ln1b: up(`${p}layernorm_before.bias`),
      ln2w: up(`${p}layernorm_after.weight`), ln2b: up(`${p}layernorm_after.bias`),
      linear,
    });
  }
  return {
    cls: up('embeddings.cls_token'),
    pos: up('embeddings.position_embeddings'),
    patchW: up('embeddings.patch_embeddings.projection.weight'),
    patchB: up('embeddings.patch_embeddings.projection.bias'),
    layers,
    lnfW: up('layernorm.weight'),
    lnfB: up('layernorm.bias'),
  };
}

export function destroyVitWeights(w: VitWeights): void {
  const bufs = [w.cls, w.pos, w.patchW, w.patchB, w.lnfW, w.lnfB];
  for (const l of w.layers) {
    bufs.push(l.ln1w, l.ln1b, l.ln2w, l.ln2b);
    for (const m of VIT_LINEAR_MODULES) bufs.push(l.linear[m].w, ...(l.linear[m].b ? [l.linear[m].b] : []));
  }
  for (const b of bufs) b.destroy();
}
