// adapter_config.json (docs/formats.md#adapter-config): written as PEFT writes it (json.dumps(asdict, indent=2,
// sort_keys=True)) with only the keys every PEFT since 0.9 accepts, and read strictly: unknown keys are
// warnings (PEFT ≥ 0.14 drops them), anything that would change the maths and is not implemented here
// (rank/alpha patterns, layer selection, bias training, LoRA bias, QALoRA, …) is a PeftError naming the key.
// Also the sidecar training_args.json (LoRA+ ratio, COLA/LoRASC settings: no PEFT keys exist for them).
import type { JsonValue } from '../safetensors/json';
import { readJsonObject } from '../hfModel/json';
import { PeftError } from './errors';
import { PyFloat, PyJsonError, pyDumps, type PyValue } from './pyjson';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const TRAINING_ARGS_FILE = 'training_args.json';

export interface AdapterConfigOptions {
  /** 'llama' covers Llama, Mistral, Qwen2 and Qwen3 (nn.Linear, causal LM). */
  modelKind: 'gpt2' | 'vit' | 'llama';
  baseModelNameOrPath: string;
  r: number;
  loraAlpha: number;
  /** A Python float: 0 is written `0.0`. */
  loraDropout: number;
  /** List: PEFT's suffix match; string: a regex that must match the whole module name. */
  targetModules: string[] | string;
  useRslora: boolean;
  useDora: boolean;
  /** ViT classification: ["classifier"]; GPT-2, Llama: null. */
  modulesToSave: string[] | null;
}

/** A parsed adapter_config.json (PEFT field names in camelCase). */
export interface AdapterConfig {
  peftType: 'LORA';
  taskType: string | null;
  baseModelNameOrPath: string | null;
  revision: string | null;
  r: number;
  loraAlpha: number;
  loraDropout: number;
  /** null when absent: the model family's PEFT default applies (GPT-2 ["c_attn"]; Llama ["q_proj", "v_proj"]; ViT has none). */
  targetModules: string[] | string | null;
  /** Modules removed from the target set (PEFT ≥ 0.14); same matching rules as targetModules. */
  excludeModules: string[] | string | null;
  fanInFanOut: boolean;
  useRslora: boolean;
  useDora: boolean;
  modulesToSave: string[] | null;
  inferenceMode: boolean;
  /** Unknown keys and ignored informational values. */
  warnings: string[];
}

/** The text PEFT's save_pretrained writes for this configuration (no trailing newline, as PEFT). */
export function writeAdapterConfig(o: AdapterConfigOptions): string {
  const file = ADAPTER_CONFIG_FILE;
  const bad = (key: string, detail: string): never => {
    throw new PeftError('EXPORT_INVALID', file, detail, { key });
  };
  if (o.modelKind !== 'gpt2' && o.modelKind !== 'vit' && o.modelKind !== 'llama') bad('task_type', `model kind ${String(o.modelKind)} is not gpt2, vit or llama`);
  if (!Number.isSafeInteger(o.r) || o.r < 1) bad('r', `must be a positive integer, got ${o.r}`);
  if (!Number.isFinite(o.loraAlpha) || o.loraAlpha <= 0) bad('lora_alpha', `must be a positive number, got ${o.loraAlpha}`);
  if (!Number.isFinite(o.loraDropout) || o.loraDropout < 0 || o.loraDropout >= 1) bad('lora_dropout', `must be in [0, 1), got ${o.loraDropout}`);
  const t = o.targetModules;
  if (typeof t === 'string' ? t.length === 0 : !Array.isArray(t) || t.length === 0 || t.some((s) => typeof s !== 'string' || s === '')) {
    bad('target_modules', 'must be a non-empty list of module names or a non-empty regex string');
  }
  if (o.modulesToSave !== null && (!Array.isArray(o.modulesToSave) || o.modulesToSave.some((s) => typeof s !== 'string' || s === ''))) {
    bad('modules_to_save', 'must be null or a list of module names');
  }
  const config: Record<string, PyValue> = {
    alpha_pattern: {},
    base_model_name_or_path: o.baseModelNameOrPath,
    bias: 'none',
    fan_in_fan_out: o.modelKind === 'gpt2', // Conv1D stores [in, out]
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: Number.isInteger(o.loraAlpha) ? o.loraAlpha : new PyFloat(o.loraAlpha),
    lora_dropout: new PyFloat(o.loraDropout),
    modules_to_save: o.modulesToSave === null ? null : [...o.modulesToSave],
    peft_type: 'LORA',
    r: o.r,
    rank_pattern: {},
    revision: null,
    target_modules: typeof t === 'string' ? t : [...t],
    task_type: o.modelKind === 'vit' ? null : 'CAUSAL_LM',
    use_dora: o.useDora,
    use_rslora: o.useRslora,
  };
  return dumpOrFail(config, file);
}

/** training_args.json: any JSON object, keys sorted, indent 2 (Python's layout; floats as repr). */
export function writeTrainingArgs(obj: object): string {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new PeftError('EXPORT_INVALID', TRAINING_ARGS_FILE, 'training arguments must be a JSON object');
  }
  return dumpOrFail(obj as PyValue, TRAINING_ARGS_FILE);
}

function dumpOrFail(v: PyValue, file: string): string {
  try {
    return pyDumps(v, { sortKeys: true, indent: 2 });
  } catch (cause) {
    if (!(cause instanceof PyJsonError)) throw cause;
    throw new PeftError('EXPORT_INVALID', file, cause.message, { key: cause.path, cause });
  }
}

/** Keys of LoraConfig (PEFT up to 0.17) and PeftConfig: present without a warning. */
const KNOWN = new Set([
  'peft_type', 'task_type', 'auto_mapping', 'base_model_name_or_path', 'revision', 'inference_mode', 'peft_version',
  'r', 'target_modules', 'exclude_modules', 'lora_alpha', 'lora_dropout', 'fan_in_fan_out', 'bias', 'use_rslora',
  'modules_to_save', 'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern',
  'megatron_config', 'megatron_core', 'trainable_token_indices', 'loftq_config', 'eva_config', 'corda_config',
  'use_dora', 'use_qalora', 'qalora_group_size', 'layer_replication', 'runtime_config', 'lora_bias',
  'target_parameters', 'alora_invocation_tokens', 'arrow_config', 'ensure_weight_tying',
]);

/** Keys whose non-default value changes what the adapter computes: refused unless at their default. */
const UNSUPPORTED: [key: string, isDefault: (v: JsonValue) => boolean, what: string][] = [
  ['rank_pattern', isEmpty, 'per-module ranks'],
  ['alpha_pattern', isEmpty, 'per-module alphas'],
  ['layers_to_transform', isEmpty, 'LoRA on selected layers only'],
  ['layer_replication', isEmpty, 'layer replication'],
  ['lora_bias', (v) => v === false, 'LoRA bias on lora_B'],
  ['use_qalora', (v) => v === false, 'QALoRA'],
  ['target_parameters', isEmpty, 'LoRA on nn.Parameters'],
  ['trainable_token_indices', isEmpty, 'trainable token embeddings'],
  ['alora_invocation_tokens', isEmpty, 'activated LoRA'],
  ['arrow_config', isEmpty, 'Arrow routing'],
  ['megatron_config', isEmpty, 'Megatron parallel layers'],
];

function isEmpty(v: JsonValue): boolean {
  return v === null || (v instanceof Map && v.size === 0) || (Array.isArray(v) && v.length === 0);
}

/** Parses and checks adapter_config.json; `file` names it in errors. */
export function parseAdapterConfig(text: string | Uint8Array | ArrayBuffer, file = ADAPTER_CONFIG_FILE): AdapterConfig {
  const obj = parseObject(text, file);
  const fail = (key: string, detail: string, code: 'ADAPTER_CONFIG' | 'ADAPTER_UNSUPPORTED' = 'ADAPTER_CONFIG'): never => {
    throw new PeftError(code, file, detail, { key });
  };
  const warnings: string[] = [];
  const get = (key: string) => obj.get(key);
  const num = (key: string, fallback: number): number => {
    const v = get(key);
    if (v === undefined) return fallback;
    if (!isNumberToken(v)) return fail(key, `must be a number, found ${describe(v)}`);
    const x = Number(v.raw);
    if (!Number.isFinite(x)) fail(key, `is ${v.raw}, which is not a finite number`);
    return x;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') return fail(key, `must be true or false, found ${describe(v)}`);
    return v;
  };
  const str = (key: string): string | null => {
    const v = get(key);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') return fail(key, `must be a string or null, found ${describe(v)}`);
    return v;
  };
  const modules = (key: string, regexAllowed: boolean): string[] | string | null => {
    const v = get(key);
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' && regexAllowed) return v;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      return fail(key, `must be a list of module names${regexAllowed ? ' or a regex string' : ''} or null, found ${describe(v)}`);
    }
    return v as string[];
  };

  const peftType = get('peft_type');
  if (peftType === undefined) fail('peft_type', 'is missing; PEFT dispatches on it');
  if (peftType !== 'LORA') fail('peft_type', `is ${describe(peftType)}; only "LORA" adapters (LoRA, rsLoRA, DoRA, LoRA+) are supported`, 'ADAPTER_UNSUPPORTED');
  const rTok = get('r');
  let r = 8;
  if (rTok !== undefined) {
    if (!isNumberToken(rTok) || !/^[1-9][0-9]*$/.test(rTok.raw) || !Number.isSafeInteger(Number(rTok.raw))) {
      fail('r', `must be a positive integer, found ${describe(rTok)}`);
    }
    r = Number((rTok as { raw: string }).raw);
  }
  const loraAlpha = num('lora_alpha', 8);
  const loraDropout = num('lora_dropout', 0);
  if (loraDropout < 0 || loraDropout > 1) fail('lora_dropout', `is ${loraDropout}; must be in [0, 1]`);
  const bias = get('bias');
  if (bias !== undefined && bias !== 'none') {
    if (bias !== 'all' && bias !== 'lora_only') fail('bias', `must be "none", "all" or "lora_only", found ${describe(bias)}`);
    fail('bias', `is ${describe(bias)}; training base biases is not supported (only "none")`, 'ADAPTER_UNSUPPORTED');
  }
  for (const [key, isDefault, what] of UNSUPPORTED) {
    const v = get(key);
    if (v !== undefined && !isDefault(v)) fail(key, `is ${describe(v)}: ${what} is not supported`, 'ADAPTER_UNSUPPORTED');
  }
  const targetModules = modules('target_modules', true);
  if (targetModules !== null && (targetModules.length === 0)) fail('target_modules', 'is empty: the adapter would adapt nothing');
  const config: AdapterConfig = {
    peftType: 'LORA',
    taskType: str('task_type'),
    baseModelNameOrPath: str('base_model_name_or_path'),
    revision: str('revision'),
    r,
    loraAlpha,
    loraDropout,
    targetModules,
    excludeModules: modules('exclude_modules', true),
    fanInFanOut: bool('fan_in_fan_out', false),
    useRslora: bool('use_rslora', false),
    useDora: bool('use_dora', false),
    modulesToSave: modules('modules_to_save', false) as string[] | null,
    inferenceMode: bool('inference_mode', false),
    warnings,
  };
  const layersPattern = get('layers_pattern');
  if (layersPattern !== undefined && !isEmpty(layersPattern)) warnings.push(`${file}: layers_pattern is ignored without layers_to_transform`);
  for (const key of obj.keys()) {
    if (!KNOWN.has(key)) warnings.push(`${file}: unknown key ${JSON.stringify(key)} ignored (PEFT ≥ 0.14 drops it; older PEFT refuses the file)`);
  }
  return config;
}

/** LoRA scaling s: lora_alpha / r, or lora_alpha / √r with rsLoRA (docs/method.md#scale). */
export function loraScale(c: Pick<AdapterConfig, 'loraAlpha' | 'r' | 'useRslora'>): number {
  return c.useRslora ? c.loraAlpha / Math.sqrt(c.r) : c.loraAlpha / c.r;
}

function parseObject(source: string | Uint8Array | ArrayBuffer, file: string): Map<string, JsonValue> {
  return readJsonObject(source, file, (detail, cause) => new PeftError('ADAPTER_JSON', file, detail, cause === undefined ? undefined : { cause }));
}

function isNumberToken(v: JsonValue | undefined): v is { raw: string; isUint: boolean } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map);
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}…` : v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (v instanceof Map) return v.size === 0 ? 'an empty object' : `an object with ${[...v.keys()].slice(0, 3).map((k) => JSON.stringify(k)).join(', ')}`;
  return v.raw;
}
