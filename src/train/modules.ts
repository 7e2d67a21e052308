// The linear modules of a loaded model, by PEFT module path, with the canonical name of their weight
// (src/io/hfModel naming) and their layout. The cascade keeps CPU copies of these weights; the noise
// scope 'all' means every one of them.
import type { LoadedModel } from '../io/hfModel';
import { GPT2_MODULES, moduleDims } from '../model/gpt2/weights';
import { isTargeted as gpt2Targeted, modulePath, type TargetModules } from '../model/gpt2/lora';
import { VIT_LINEAR_MODULES, linearDims } from '../model/vit/weights';
import { vitModuleName } from '../model/vit/trainable';
import type { ModuleDims } from './delta';

export interface LinearModule extends ModuleDims {
  /** PEFT module path, e.g. transformer.h.0.attn.c_attn or vit.encoder.layer.0.attention.attention.query. */
  path: string;
  /** Canonical name of the weight in LoadedModel.tensors. */
  weight: string;
}

export function linearModules(model: LoadedModel): LinearModule[] {
  const out: LinearModule[] = [];
  if (model.kind === 'gpt2') {
    for (let l = 0; l < model.config.n_layer; l++) {
      for (const m of GPT2_MODULES) {
        out.push({ path: modulePath(l, m), weight: `h.${l}.${m}.weight`, layout: 'conv1d', ...moduleDims(model.config, m) });
      }
    }
  } else {
    for (let l = 0; l < model.config.num_hidden_layers; l++) {
      for (const m of VIT_LINEAR_MODULES) {
        out.push({ path: vitModuleName(l, m), weight: `encoder.layer.${l}.${m}.weight`, layout: 'linear', ...linearDims(model.config, m) });
      }
    }
  }
  return out;
}

/** PEFT target_modules semantics (list: equal or "."-suffix; string: full-match regex). */
export function isTargeted(path: string, target: TargetModules): boolean {
  return gpt2Targeted(path, target);
}

export function targetedModules(model: LoadedModel, target: TargetModules): LinearModule[] {
  const all = linearModules(model);
  const hit = all.filter((m) => isTargeted(m.path, target));
  if (hit.length === 0) {
    const names = [...new Set(all.map((m) => m.path.split('.').slice(model.kind === 'gpt2' ? 3 : 4).join('.')))];
    throw new Error(`target_modules ${JSON.stringify(target)} match no linear module of this ${model.kind}; its modules are ${names.join(', ')}`);
  }
  return hit;
}

export const loraKeys = (path: string) => ({
  A: `base_model.model.${path}.lora_A.weight`,
  B: `base_model.model.${path}.lora_B.weight`,
  m: `base_model.model.${path}.lora_magnitude_vector`,
});
