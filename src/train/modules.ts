// The linear modules the trainer works with: PEFT's list of LoRA-capable modules (src/io/peft/modules.ts:
// PeftModel path, canonical weight name, layout, in/out), the target_modules selection with an error
// that names the model's modules, and the PEFT keys of one module's LoRA tensors. The cascade keeps
// CPU copies of these weights; the noise scope 'all' means every one of them.
import type { LoadedModel } from '../io/hfModel';
import { type LoraModule, type ModuleSelector, loraKey, loraModules, matchesModule, peftLayerRoot } from '../io/peft';

export type LinearModule = LoraModule;

export const linearModules = (model: LoadedModel): LinearModule[] => loraModules(model);

export function targetedModules(model: LoadedModel, target: ModuleSelector): LinearModule[] {
  const all = linearModules(model);
  const hit = all.filter((m) => matchesModule(m.path, target));
  if (hit.length === 0) {
    const names = [...new Set(all.map((m) => m.path.slice(peftLayerRoot(model.kind).length).split('.').slice(1).join('.')))];
    throw new Error(`target_modules ${JSON.stringify(target)} match no linear module of this ${model.kind}; its modules are ${names.join(', ')}`);
  }
  return hit;
}

export const loraKeys = (path: string) => ({ A: loraKey(path, 'lora_A'), B: loraKey(path, 'lora_B'), m: loraKey(path, 'magnitude') });
