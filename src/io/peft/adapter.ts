// PEFT adapter folders (docs/formats.md#peft-adapter): buildAdapterFiles writes adapter_config.json,
// adapter_model.safetensors (F32, {"format":"pt"}, canonical writer) and the optional training_args.json
// sidecar; readAdapterDir imports a folder written by PEFT's save_pretrained for a loaded base model and
// refuses, naming file, key and rule, anything PEFT would not load into this model or that the app
// cannot compute (docs/failure-scenarios.md#g2, #a12).
import { type LoadedModel, type LoadedVit, type ModelDirSource } from '../hfModel';
import { readFailure } from '../hfModel/errors';
import { readSafetensors, writeSafetensors, type F32Tensor, type SafetensorsTensor } from '../safetensors';
import {
  ADAPTER_CONFIG_FILE, type AdapterConfig, type AdapterConfigOptions, loraScale, parseAdapterConfig, TRAINING_ARGS_FILE,
  writeAdapterConfig, writeTrainingArgs,
} from './config';
import { PeftError } from './errors';
import {
  CLASSIFIER_KEYS, defaultTargets, isTargetedModule, type LoraModule, loraKey, loraModules, matchesModule,
  type ModuleSelector, parseLoraKey, peftLayerRoot, type PeftTensorRole, savesClassifier,
} from './modules';

export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
const PICKLE = /^adapter_model\.(bin|pt|pth|ckpt|pkl)$/i;

export interface BuildAdapterOptions {
  config: AdapterConfigOptions;
  /** PEFT key → tensor: lora_A [r, in], lora_B [out, r], DoRA lora_magnitude_vector [out], ViT classifier. */
  tensors: ReadonlyMap<string, { data: Float32Array; shape: number[] }>;
  /** Sidecar training_args.json (LoRA+ ratio, COLA/LoRASC settings). */
  trainingArgs?: object;
}

export interface ImportedModule extends LoraModule {
  r: number;
  A: Float32Array; // (r, IN)
  B: Float32Array; // (OUT, r)
  /** DoRA magnitude m (OUT), present iff use_dora. */
  magnitude?: Float32Array;
}

export interface ImportedAdapter {
  config: AdapterConfig;
  /** s = lora_alpha / r, or lora_alpha / √r with rsLoRA. */
  scale: number;
  /** In model order. */
  modules: ImportedModule[];
  /** ViT modules_to_save ["classifier"]: the fully trained head. */
  classifier?: { weight: Float32Array /* (K, C) */; bias: Float32Array /* (K) */; numClasses: number };
  warnings: string[];
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The files of a PEFT adapter folder, each re-read by the strict readers before it is returned. */
export function buildAdapterFiles(o: BuildAdapterOptions): Map<string, Uint8Array> {
  const configText = writeAdapterConfig(o.config);
  checkExportTensors(o.config, o.tensors);
  const weights = writeSafetensors(o.tensors as ReadonlyMap<string, F32Tensor>, { file: ADAPTER_WEIGHTS_FILE });
  try {
    parseAdapterConfig(configText, ADAPTER_CONFIG_FILE);
  } catch (cause) {
    throw new PeftError('EXPORT_INVALID', ADAPTER_CONFIG_FILE, 'the written config fails the strict reader', { cause });
  }
  const files = new Map<string, Uint8Array>([[ADAPTER_CONFIG_FILE, utf8(configText)], [ADAPTER_WEIGHTS_FILE, weights]]);
  if (o.trainingArgs !== undefined) files.set(TRAINING_ARGS_FILE, utf8(writeTrainingArgs(o.trainingArgs)));
  return files;
}

/** Key names, pairs and shapes that PEFT's loader needs (the model itself is not needed for that). */
function checkExportTensors(c: AdapterConfigOptions, tensors: BuildAdapterOptions['tensors']): void {
  const file = ADAPTER_WEIGHTS_FILE;
  const bad = (key: string, detail: string): never => {
    throw new PeftError('EXPORT_INVALID', file, detail, { key });
  };
  const root = peftLayerRoot(c.modelKind);
  const byPath = new Map<string, Partial<Record<PeftTensorRole, { shape: number[] }>>>();
  const classifier = savesClassifier(c.modulesToSave) && c.modelKind === 'vit';
  for (const [key, t] of tensors) {
    if (key === CLASSIFIER_KEYS.weight || key === CLASSIFIER_KEYS.bias) {
      if (!classifier) bad(key, 'a classifier tensor needs a ViT adapter with modules_to_save ["classifier"]');
      continue;
    }
    const parsed = parseLoraKey(key);
    if (parsed === null) bad(key, 'is not base_model.model.<module>.(lora_A.weight | lora_B.weight | lora_magnitude_vector)');
    if (parsed !== null && 'hint' in parsed) bad(key, parsed.hint);
    const { path, role } = parsed as { path: string; role: PeftTensorRole };
    if (!path.startsWith(root)) bad(key, `a ${c.modelKind} module path starts with ${JSON.stringify(root)} (the HF model class)`);
    if (!matchesModule(path, c.targetModules)) bad(key, `module ${path} is not matched by target_modules ${JSON.stringify(c.targetModules)}`);
    if (role === 'magnitude' && !c.useDora) bad(key, 'a DoRA magnitude needs use_dora: true');
    const entry = byPath.get(path) ?? {};
    entry[role] = t;
    byPath.set(path, entry);
  }
  if (byPath.size === 0) bad(`${root}…`, 'the adapter holds no LoRA tensors');
  for (const [path, e] of byPath) {
    const a = e.lora_A?.shape;
    const b = e.lora_B?.shape;
    if (!a || !b) bad(loraKey(path, a ? 'lora_B' : 'lora_A'), `is missing: module ${path} needs both lora_A and lora_B`);
    if (a?.length !== 2 || a[0] !== c.r) bad(loraKey(path, 'lora_A'), `has shape ${fmt(a ?? [])}; expected [r=${c.r}, in]`);
    if (b?.length !== 2 || b[1] !== c.r) bad(loraKey(path, 'lora_B'), `has shape ${fmt(b ?? [])}; expected [out, r=${c.r}]`);
    const m = e.magnitude?.shape;
    if (c.useDora && (m?.length !== 1 || m[0] !== (b as number[])[0])) {
      bad(loraKey(path, 'magnitude'), m ? `has shape ${fmt(m)}; expected [out=${(b as number[])[0]}]` : 'is missing: use_dora needs a magnitude per module');
    }
  }
  if (classifier) {
    const w = tensors.get(CLASSIFIER_KEYS.weight)?.shape;
    const b = tensors.get(CLASSIFIER_KEYS.bias)?.shape;
    if (!w || !b) bad(w ? CLASSIFIER_KEYS.bias : CLASSIFIER_KEYS.weight, 'is missing: modules_to_save ["classifier"] saves weight and bias');
    if (w?.length !== 2 || b?.length !== 1 || w[0] !== b[0]) bad(CLASSIFIER_KEYS.weight, `shapes ${fmt(w ?? [])} / ${fmt(b ?? [])} are not [K, C] / [K]`);
  }
}

/** Imports a PEFT adapter folder for `model`; every refusal is a PeftError (or a container ST_* error). */
export async function readAdapterDir(source: ModelDirSource, model: LoadedModel): Promise<ImportedAdapter> {
  const names = new Set(source.names);
  if (!names.has(ADAPTER_CONFIG_FILE)) throw new PeftError('ADAPTER_MISSING', ADAPTER_CONFIG_FILE, 'the folder has no adapter_config.json');
  if (!names.has(ADAPTER_WEIGHTS_FILE)) {
    const pickle = [...names].find((n) => PICKLE.test(n));
    if (pickle !== undefined) throw new PeftError('ADAPTER_FORMAT', pickle, 'pickle adapters are refused without being opened');
    throw new PeftError('ADAPTER_MISSING', ADAPTER_WEIGHTS_FILE, 'the folder has no adapter_model.safetensors');
  }
  const config = parseAdapterConfig(await readOne(source, ADAPTER_CONFIG_FILE), ADAPTER_CONFIG_FILE);
  const warnings = [...config.warnings];
  const target = checkConfigForModel(config, model, warnings);
  const file = readSafetensors(await readOne(source, ADAPTER_WEIGHTS_FILE), ADAPTER_WEIGHTS_FILE);
  const byPath = new Map(loraModules(model).map((m) => [m.path, m]));
  const found = new Map<string, Partial<Record<PeftTensorRole, Float32Array>>>();
  const head: { weight?: SafetensorsTensor; bias?: SafetensorsTensor } = {};
  const fail = (code: ConstructorParameters<typeof PeftError>[0], key: string, detail: string): never => {
    throw new PeftError(code, ADAPTER_WEIGHTS_FILE, detail, { key });
  };
  const wantsHead = model.kind === 'vit' && savesClassifier(config.modulesToSave);
  for (const [key, t] of file.tensors) {
    if (key === CLASSIFIER_KEYS.weight || key === CLASSIFIER_KEYS.bias) {
      if (!wantsHead) fail('ADAPTER_KEY', key, 'is a modules_to_save tensor, but modules_to_save does not name the classifier');
      head[key === CLASSIFIER_KEYS.weight ? 'weight' : 'bias'] = t;
      continue;
    }
    const parsed = parseLoraKey(key);
    if (parsed === null) fail('ADAPTER_KEY', key, 'unrecognised key: not base_model.model.<module>.(lora_A.weight | lora_B.weight | lora_magnitude_vector)');
    if (parsed !== null && 'hint' in parsed) fail('ADAPTER_KEY', key, parsed.hint);
    const { path, role } = parsed as { path: string; role: PeftTensorRole };
    const module = byPath.get(path);
    if (!module) fail('ADAPTER_MODULE', key, `this ${familyName(model)} has no LoRA-capable module ${path}`);
    if (!isTargetedModule(path, target, config.excludeModules)) fail('ADAPTER_UNTARGETED', key, `module ${path} is not matched by target_modules ${JSON.stringify(target)}`);
    if (role === 'magnitude' && !config.useDora) fail('ADAPTER_INCOMPLETE', key, 'a DoRA magnitude is present but use_dora is false');
    const { IN, OUT } = module as LoraModule;
    const r = config.r;
    const want = role === 'lora_A' ? [r, IN] : role === 'lora_B' ? [OUT, r] : [OUT];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      fail('ADAPTER_SHAPE', key, `has shape ${fmt(t.shape)}; r=${r} and ${path} (in ${IN}, out ${OUT}) imply ${fmt(want)}`);
    }
    const entry = found.get(path) ?? {};
    entry[role] = finiteCopy(t, key);
    found.set(path, entry);
  }
  const modules: ImportedModule[] = [];
  let untouched = 0;
  for (const m of byPath.values()) {
    const e = found.get(m.path);
    if (!e) {
      if (isTargetedModule(m.path, target, config.excludeModules)) untouched++;
      continue;
    }
    if (!e.lora_A || !e.lora_B) fail('ADAPTER_INCOMPLETE', loraKey(m.path, e.lora_A ? 'lora_B' : 'lora_A'), `is missing: module ${m.path} needs both lora_A and lora_B`);
    if (config.useDora && !e.magnitude) fail('ADAPTER_INCOMPLETE', loraKey(m.path, 'magnitude'), 'is missing: use_dora is true');
    modules.push({ ...m, r: config.r, A: e.lora_A as Float32Array, B: e.lora_B as Float32Array, ...(e.magnitude ? { magnitude: e.magnitude } : {}) });
  }
  if (modules.length === 0) fail('ADAPTER_INCOMPLETE', `${ADAPTER_WEIGHTS_FILE}`, 'the adapter holds no LoRA tensors');
  if (untouched > 0) warnings.push(`${untouched} targeted module(s) have no tensors in ${ADAPTER_WEIGHTS_FILE}; PEFT would initialise them as no-ops (B = 0)`);
  const result: ImportedAdapter = { config, scale: loraScale(config), modules, warnings };
  if (wantsHead) result.classifier = importHead(head, model as LoadedVit, warnings);
  return result;
}

/** Model-level checks of the config; returns the effective target_modules. */
function checkConfigForModel(config: AdapterConfig, model: LoadedModel, warnings: string[]): ModuleSelector {
  const file = ADAPTER_CONFIG_FILE;
  const target = config.targetModules ?? defaultTargets(model.kind);
  if (target === null) throw new PeftError('ADAPTER_CONFIG', file, 'is missing and PEFT has no default for ViT', { key: 'target_modules' });
  for (const [key, sel] of [['target_modules', target], ['exclude_modules', config.excludeModules]] as const) {
    if (typeof sel !== 'string' || sel === 'all-linear') continue;
    try {
      new RegExp(sel);
    } catch (cause) {
      throw new PeftError('ADAPTER_CONFIG', file, `regex ${JSON.stringify(sel)} does not compile`, { key, cause });
    }
  }
  const saved = config.modulesToSave ?? [];
  if (saved.length > 0 && (model.kind !== 'vit' || saved.some((m) => !savesClassifier([m])))) {
    throw new PeftError('ADAPTER_UNSUPPORTED', file, `${JSON.stringify(saved)}: only the ViT classifier can be a fully trained module`, { key: 'modules_to_save' });
  }
  const fanInFanOut = model.kind === 'gpt2';
  if (config.fanInFanOut !== fanInFanOut) warnings.push(`${file}: fan_in_fan_out is ${config.fanInFanOut}; PEFT forces ${fanInFanOut} for ${model.kind === 'gpt2' ? 'Conv1D' : 'nn.Linear'} layers`);
  const task = model.kind === 'vit' ? null : 'CAUSAL_LM';
  if (config.taskType !== null && config.taskType !== task) warnings.push(`${file}: task_type ${config.taskType} (expected ${task ?? 'null'} for ${model.kind})`);
  return target;
}

function familyName(model: LoadedModel): string {
  return model.kind === 'gpt2' ? 'GPT-2' : model.kind === 'vit' ? 'ViT' : `${model.config.model_type} model`;
}

function importHead(head: { weight?: SafetensorsTensor; bias?: SafetensorsTensor }, model: LoadedVit, warnings: string[]) {
  const C = model.config.hidden_size;
  const { weight: w, bias: b } = head;
  if (!w || !b) {
    throw new PeftError('ADAPTER_INCOMPLETE', ADAPTER_WEIGHTS_FILE, 'is missing: modules_to_save ["classifier"] saves weight and bias', { key: w ? CLASSIFIER_KEYS.bias : CLASSIFIER_KEYS.weight });
  }
  const K = w.shape[0];
  if (w.shape.length !== 2 || w.shape[1] !== C || K < 1) {
    throw new PeftError('ADAPTER_SHAPE', ADAPTER_WEIGHTS_FILE, `has shape ${fmt(w.shape)}; expected [classes, hidden_size=${C}]`, { key: CLASSIFIER_KEYS.weight });
  }
  if (b.shape.length !== 1 || b.shape[0] !== K) {
    throw new PeftError('ADAPTER_SHAPE', ADAPTER_WEIGHTS_FILE, `has shape ${fmt(b.shape)}; expected [${K}] to match the classifier weight`, { key: CLASSIFIER_KEYS.bias });
  }
  if (K !== model.head.numClasses) warnings.push(`${ADAPTER_WEIGHTS_FILE}: the adapter's classifier has ${K} classes; the loaded model has ${model.head.numClasses}`);
  return { weight: finiteCopy(w, CLASSIFIER_KEYS.weight), bias: finiteCopy(b, CLASSIFIER_KEYS.bias), numClasses: K };
}

/** F32 copy of a tensor (F16/BF16 converted); NaN/Inf refused with the count (docs/failure-scenarios.md#a6). */
function finiteCopy(t: SafetensorsTensor, key: string): Float32Array {
  if (!t.supported) throw new PeftError('ADAPTER_DTYPE', ADAPTER_WEIGHTS_FILE, `has dtype ${t.dtype}`, { key });
  const data = t.data.slice();
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    if (data[i] - data[i] !== 0 && count++ === 0) first = i;
  }
  if (count > 0) throw new PeftError('ADAPTER_NONFINITE', ADAPTER_WEIGHTS_FILE, `${count} non-finite value(s); first at index ${first}`, { key });
  return data;
}

async function readOne(source: ModelDirSource, name: string): Promise<Uint8Array | ArrayBuffer> {
  try {
    return await source.read(name);
  } catch (cause) {
    throw readFailure(name, cause);
  }
}
