// Public API of PEFT adapter import/export (docs/formats.md#peft-adapter).
export { PeftError, type PeftErrorCode } from './errors';
export {
  ADAPTER_CONFIG_FILE, TRAINING_ARGS_FILE, loraScale, parseAdapterConfig, writeAdapterConfig, writeTrainingArgs,
} from './config';
export type { AdapterConfig, AdapterConfigOptions } from './config';
export { ADAPTER_WEIGHTS_FILE, buildAdapterFiles, readAdapterDir } from './adapter';
export type { BuildAdapterOptions, ImportedAdapter, ImportedModule } from './adapter';
export {
  CLASSIFIER_KEYS, PEFT_PREFIX, defaultTargets, isTargetedModule, loraKey, loraModules, matchesModule, parseLoraKey,
  peftLayerRoot,
} from './modules';
export type { LoraModule, ModuleSelector, PeftTensorRole, WeightLayout } from './modules';
export { PyFloat, PyRaw, pyDumps, pyFloatRepr, pyString } from './pyjson';
export type { PyValue } from './pyjson';
