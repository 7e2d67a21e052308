// The LoRA-capable modules of a loaded model, by PeftModel path (docs/formats.md#adapter-tensors): the module path of the
// HF model CLASS (GPT2LMHeadModel: `transformer.h.{i}.…`, ViTForImageClassification: `vit.encoder.…`,
// LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM: `model.layers.{i}.…`),
// whatever prefix the weight file used, with the canonical weight name, layout and in/out widths read
// from the loaded weight (GPT-2 Conv1D: in, out = weight.shape, as PEFT does; ViT, Llama nn.Linear [out, in]).
// Target matching follows PEFT: a list entry matches a name equal to it or ending in "." + entry; a
// string is a regex over the whole name; "all-linear" is every such module (never the output head).
import type { LoadedModel } from '../hfModel';
import { GPT2_MODULES, LLAMA_MODULES, VIT_LINEAR_MODULES } from '../hfModel/layout';

export type WeightLayout = 'conv1d' /* [in, out] */ | 'linear' /* [out, in] */;

export interface LoraModule {
  /** PeftModel module path without `base_model.model.`, e.g. transformer.h.0.attn.c_attn. */
  path: string;
  /** Canonical name of the weight in LoadedModel.tensors, e.g. h.0.attn.c_attn.weight. */
  weight: string;
  layout: WeightLayout;
  IN: number;
  OUT: number;
}

export const PEFT_PREFIX = 'base_model.model.';

/** Every LoRA-capable module of the model, in model order (layer, then forward order). */
export function loraModules(model: LoadedModel): LoraModule[] {
  const out: LoraModule[] = [];
  const add = (path: string, weight: string, layout: WeightLayout) => {
    const t = model.tensors.get(weight);
    if (!t || t.shape.length !== 2) throw new Error(`loaded model has no 2-D weight ${weight}`);
    const [d0, d1] = t.shape;
    out.push(layout === 'conv1d' ? { path, weight, layout, IN: d0, OUT: d1 } : { path, weight, layout, IN: d1, OUT: d0 });
  };
  if (model.kind === 'gpt2') {
    for (let i = 0; i < model.config.n_layer; i++) {
      for (const m of GPT2_MODULES) add(`transformer.h.${i}.${m}`, `h.${i}.${m}.weight`, 'conv1d');
    }
  } else if (model.kind === 'llama') {
    // The PEFT path is the module path of XForCausalLM (`model.` …), whatever prefix the file had.
    for (let i = 0; i < model.config.num_hidden_layers; i++) {
      for (const m of LLAMA_MODULES) add(`model.layers.${i}.${m}`, `layers.${i}.${m}.weight`, 'linear');
    }
  } else {
    for (let i = 0; i < model.config.num_hidden_layers; i++) {
      for (const m of VIT_LINEAR_MODULES) add(`vit.encoder.layer.${i}.${m}`, `encoder.layer.${i}.${m}.weight`, 'linear');
    }
  }
  return out;
}

export type ModuleSelector = readonly string[] | string;

/** PEFT's target rule (check_target_module_exists). */
export function matchesModule(path: string, sel: ModuleSelector): boolean {
  if (typeof sel === 'string') {
    if (sel === 'all-linear') return true; // every module listed by loraModules: heads are never in it
    return new RegExp(`^(?:${sel})$`).test(path);
  }
  return sel.some((t) => path === t || path.endsWith(`.${t}`));
}

/** Targeted by `target`, not removed by `exclude`. */
export function isTargetedModule(path: string, target: ModuleSelector, exclude: ModuleSelector | null): boolean {
  return matchesModule(path, target) && !(exclude !== null && matchesModule(path, exclude));
}

/**
 * PEFT's default target_modules per model type (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING:
 * gpt2 ["c_attn"]; llama, mistral, qwen2, qwen3 ["q_proj", "v_proj"]); ViT has none.
 */
export function defaultTargets(kind: LoadedModel['kind']): string[] | null {
  if (kind === 'gpt2') return ['c_attn'];
  if (kind === 'llama') return ['q_proj', 'v_proj'];
  return null;
}

/** Where a family's PEFT module paths start (`root` + layer index + `.` + module). */
export function peftLayerRoot(kind: LoadedModel['kind']): string {
  return kind === 'gpt2' ? 'transformer.h.' : kind === 'llama' ? 'model.layers.' : 'vit.encoder.layer.';
}

export type PeftTensorRole = 'lora_A' | 'lora_B' | 'magnitude';

const LORA_KEY = /^base_model\.model\.(.+)\.(lora_A\.weight|lora_B\.weight|lora_magnitude_vector)$/;
const DEFAULT_KEY = /\.(lora_A|lora_B|lora_magnitude_vector|modules_to_save)\.default(\.|$)/;

/**
 * Splits a PEFT LoRA key into module path and role; `null` for keys that are not LoRA tensors.
 * Keys carrying the adapter name (`.default`) or `lora_magnitude_vector.weight` come from
 * model.state_dict(), never from save_pretrained: the returned string explains that.
 */
export function parseLoraKey(key: string): { path: string; role: PeftTensorRole } | { hint: string } | null {
  if (DEFAULT_KEY.test(key)) {
    return { hint: 'holds the adapter name ".default"; PEFT\'s save_pretrained removes it (get_peft_model_state_dict), so this file was saved from model.state_dict()' };
  }
  if (key.endsWith('.lora_magnitude_vector.weight')) {
    return { hint: 'ends in lora_magnitude_vector.weight; PEFT saves the DoRA magnitude as ….lora_magnitude_vector without ".weight"' };
  }
  const m = LORA_KEY.exec(key);
  if (!m) return null;
  const role = m[2] === 'lora_A.weight' ? 'lora_A' : m[2] === 'lora_B.weight' ? 'lora_B' : 'magnitude';
  return { path: m[1], role };
}

export function loraKey(path: string, role: PeftTensorRole): string {
  return `${PEFT_PREFIX}${path}.${role === 'magnitude' ? 'lora_magnitude_vector' : `${role}.weight`}`;
}

/** PEFT's modules_to_save rule: the module name ends with an entry (plain endswith, no dot). */
export function savesClassifier(modulesToSave: readonly string[] | null): boolean {
  return modulesToSave !== null && modulesToSave.some((m) => 'classifier'.endsWith(m) && m.length > 0);
}

export const CLASSIFIER_KEYS = { weight: `${PEFT_PREFIX}classifier.weight`, bias: `${PEFT_PREFIX}classifier.bias` } as const;
