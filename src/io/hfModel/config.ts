// config.json of a Hugging Face GPT-2 or ViT checkpoint (docs/formats.md#gpt2, #vit) → typed config.
// Field names are the transformers attribute names (one vocabulary with config.json and export);
// aliases (hidden_size → n_embd, …) are resolved, absent keys take transformers' defaults, and the few
// derived fields (head_size, num_patches, resolved n_inner) are marked. Anything transformers would
// reject, or that would make the weights ambiguous, is refused with MODEL_CONFIG naming the key.
// Size caps keep all later arithmetic exact and stop absurd sizes at preflight (docs/failure-scenarios.md#a9).
import { ModelDirError } from './errors';
import { JsonFields, kindOf, parseJsonObject, type JsonObject, type JsonValue } from './json';
import { LLAMA_ARCHITECTURES, LLAMA_FAMILIES, type LlamaConfig, type LlamaFamily, parseLlamaConfig } from './llamaConfig';

export { LLAMA_ARCHITECTURES, LLAMA_FAMILIES, parseLlamaConfig, type LlamaConfig, type LlamaFamily };

export const CONFIG_FILE = 'config.json';

export interface Gpt2Config {
  model_type: 'gpt2';
  architectures: string[] | null;
  vocab_size: number; // V
  n_positions: number; // largest T (wpe rows)
  n_embd: number; // C
  n_layer: number; // L
  n_head: number; // NH
  head_size: number; // HS = C / NH (derived)
  n_inner: number; // MLP width; null in the file ⇒ 4·C (resolved here)
  activation_function: string; // gelu_new: tanh approximation
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  layer_norm_epsilon: number;
  initializer_range: number;
  bos_token_id: number | null;
  eos_token_id: number | number[] | null;
  pad_token_id: number | null;
  scale_attn_weights: boolean; // scores ÷ √HS
  scale_attn_by_inverse_layer_idx: boolean; // scores also ÷ (layer + 1): the model implements or rejects it
  reorder_and_upcast_attn: boolean; // precision-only option
  tie_word_embeddings: boolean; // LM head = wte
  /** The whole file, for export: unknown keys (task_specific_params, torch_dtype, n_ctx…) are carried. */
  raw: JsonObject;
}

export interface VitConfig {
  model_type: 'vit';
  architectures: string[] | null;
  hidden_size: number; // C
  num_hidden_layers: number; // L
  num_attention_heads: number; // NH
  head_size: number; // HS = C / NH (derived)
  intermediate_size: number; // MLP width
  hidden_act: string; // gelu: exact erf GELU
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  initializer_range: number;
  layer_norm_eps: number; // 1e-12 by default, not 1e-5
  image_size: readonly [number, number]; // [height, width]; an int in the file means square
  patch_size: readonly [number, number]; // [height, width]
  num_channels: number;
  num_patches: number; // P = (H / ph)·(W / pw) (derived)
  qkv_bias: boolean;
  encoder_stride: number;
  pooler_output_size: number; // ViTModel pooler width; null in the file ⇒ hidden_size
  /** Class names by id: id2label["0"], id2label["1"], … (keys must be exactly 0..N−1). */
  id2label: string[];
  /** Class name → id; built from id2label when the file has none (later duplicates win, as in Python). */
  label2id: Map<string, number>;
  num_labels: number; // = id2label.length
  raw: JsonObject;
}

export type ModelConfig = Gpt2Config | VitConfig | LlamaConfig;

/** Architectures whose weight layout the loader knows; others (DoubleHeads, SequenceClassification…) are refused. */
export const SUPPORTED_ARCHITECTURES = {
  gpt2: ['GPT2LMHeadModel', 'GPT2Model'],
  vit: ['ViTForImageClassification', 'ViTModel'],
  ...LLAMA_ARCHITECTURES,
} as const;

/** transformers' ACT2FN names: an unknown name is a KeyError there, a refusal here. */
const ACTIVATIONS = new Set([
  'gelu', 'gelu_10', 'gelu_accurate', 'gelu_fast', 'gelu_new', 'gelu_python', 'gelu_pytorch_tanh', 'laplace',
  'leaky_relu', 'linear', 'mish', 'quick_gelu', 'relu', 'relu2', 'relu6', 'sigmoid', 'silu', 'swish', 'tanh',
]);

// Caps: far above every real GPT-2/ViT (gpt2-xl C 1600, V 50257; ViT-huge C 1280; in21k 21843 labels),
// low enough that every tensor's element count stays a safe integer.
const MAX_WIDTH = 1 << 15;
const MAX_MLP = 1 << 17;
const MAX_LAYERS = 1024;
const MAX_VOCAB = 1 << 22;
const MAX_POSITIONS = 1 << 17;
const MAX_IMAGE = 1 << 14;
// 65,536 classes (ImageNet-21k has 21,843). A config may name the count without id2label, and then
// every LABEL_i is built: 2^20 would let a 41-byte file allocate ~170 MB (found by the config fuzzer).
export const MAX_LABELS = 1 << 16;

/** Parses config.json (bytes or text) and dispatches on `model_type`, the one required key. */
export function parseModelConfig(source: string | ArrayBuffer | Uint8Array, file = CONFIG_FILE): ModelConfig {
  const f = new JsonFields(parseJsonObject(source, file, 'MODEL_CONFIG'), file, 'MODEL_CONFIG');
  const modelType = f.obj.get('model_type');
  if (modelType === undefined) f.fail('model_type', 'is missing; it says which architecture the weights are (gpt2, vit, llama, mistral, qwen2, qwen3)');
  if (modelType === 'gpt2') return parseGpt2Config(f);
  if (modelType === 'vit') return parseVitConfig(f);
  const family = LLAMA_FAMILIES.find((t) => t === modelType);
  if (family !== undefined) return parseLlamaConfig(f, family);
  return f.fail('model_type', `${kindOf(modelType)} is not supported; supported: "gpt2", "vit", ${LLAMA_FAMILIES.map((t) => `"${t}"`).join(', ')}`);
}

/** GPT2Config defaults (transformers), aliases from GPT2Config.attribute_map. */
export function parseGpt2Config(f: JsonFields): Gpt2Config {
  const embdKeys = ['n_embd', 'hidden_size'];
  const headKeys = ['n_head', 'num_attention_heads'];
  const n_embd = f.int(embdKeys, 768, { min: 1, max: MAX_WIDTH });
  const n_head = f.int(headKeys, 12, { min: 1, max: MAX_WIDTH });
  if (n_embd % n_head !== 0) {
    const dflt = headKeys.some((k) => f.obj.has(k)) ? '' : ' (the default)';
    f.fail(presentKey(f, headKeys), `n_embd ${n_embd} is not divisible by n_head ${n_head}${dflt}`);
  }
  const n_inner = f.int('n_inner', null, { min: 1, max: MAX_MLP }) ?? 4 * n_embd;
  const pdrop = (key: string) => f.float(key, 0.1, { min: 0, max: 1 });
  return {
    model_type: 'gpt2',
    architectures: architectures(f, 'gpt2'),
    vocab_size: f.int('vocab_size', 50257, { min: 1, max: MAX_VOCAB }),
    n_positions: f.int(['n_positions', 'max_position_embeddings'], 1024, { min: 1, max: MAX_POSITIONS }),
    n_embd,
    n_layer: f.int(['n_layer', 'num_hidden_layers'], 12, { min: 1, max: MAX_LAYERS }),
    n_head,
    head_size: n_embd / n_head,
    n_inner,
    activation_function: activation(f, 'activation_function', 'gelu_new'),
    resid_pdrop: pdrop('resid_pdrop'),
    embd_pdrop: pdrop('embd_pdrop'),
    attn_pdrop: pdrop('attn_pdrop'),
    layer_norm_epsilon: f.float('layer_norm_epsilon', 1e-5, { exclusiveMin: 0 }),
    initializer_range: f.float('initializer_range', 0.02, { min: 0 }),
    bos_token_id: f.int('bos_token_id', null, { min: 0 }) ?? (f.obj.has('bos_token_id') ? null : 50256),
    eos_token_id: eosTokenId(f, 50256),
    pad_token_id: f.int('pad_token_id', null),
    scale_attn_weights: f.bool('scale_attn_weights', true),
    scale_attn_by_inverse_layer_idx: f.bool('scale_attn_by_inverse_layer_idx', false),
    reorder_and_upcast_attn: f.bool('reorder_and_upcast_attn', false),
    tie_word_embeddings: f.bool('tie_word_embeddings', true),
    raw: f.obj,
  };
}

/** ViTConfig defaults (transformers 4.x); labels as PretrainedConfig handles them. */
export function parseVitConfig(f: JsonFields): VitConfig {
  const hidden_size = f.int('hidden_size', 768, { min: 1, max: MAX_WIDTH });
  const heads = f.int('num_attention_heads', 12, { min: 1, max: MAX_WIDTH });
  if (hidden_size % heads !== 0) f.fail('num_attention_heads', `hidden_size ${hidden_size} is not divisible by num_attention_heads ${heads}`);
  const image_size = pair(f, 'image_size', 224, MAX_IMAGE);
  const patch_size = pair(f, 'patch_size', 16, MAX_IMAGE);
  for (const d of [0, 1]) {
    if (image_size[d] % patch_size[d] !== 0) {
      f.fail('image_size', `image_size ${image_size.join('×')} is not divisible by patch_size ${patch_size.join('×')}`);
    }
  }
  const labels = parseLabels(f);
  return {
    model_type: 'vit',
    architectures: architectures(f, 'vit'),
    hidden_size,
    num_hidden_layers: f.int('num_hidden_layers', 12, { min: 1, max: MAX_LAYERS }),
    num_attention_heads: heads,
    head_size: hidden_size / heads,
    intermediate_size: f.int('intermediate_size', 3072, { min: 1, max: MAX_MLP }),
    hidden_act: activation(f, 'hidden_act', 'gelu'),
    hidden_dropout_prob: f.float('hidden_dropout_prob', 0, { min: 0, max: 1 }),
    attention_probs_dropout_prob: f.float('attention_probs_dropout_prob', 0, { min: 0, max: 1 }),
    initializer_range: f.float('initializer_range', 0.02, { min: 0 }),
    layer_norm_eps: f.float('layer_norm_eps', 1e-12, { exclusiveMin: 0 }),
    image_size,
    patch_size,
    num_channels: f.int('num_channels', 3, { min: 1, max: 16 }),
    num_patches: (image_size[0] / patch_size[0]) * (image_size[1] / patch_size[1]),
    qkv_bias: f.bool('qkv_bias', true),
    encoder_stride: f.int('encoder_stride', 16, { min: 1, max: MAX_IMAGE }),
    pooler_output_size: f.int('pooler_output_size', null, { min: 1, max: MAX_MLP }) ?? hidden_size,
    ...labels,
    raw: f.obj,
  };
}

/** The key of `keys` the file actually uses (so a message names what the user wrote). */
function presentKey(f: JsonFields, keys: readonly string[]): string {
  return keys.find((k) => f.obj.has(k)) ?? keys[0];
}

function architectures(f: JsonFields, type: keyof typeof SUPPORTED_ARCHITECTURES): string[] | null {
  const list = f.stringList('architectures');
  const ok: readonly string[] = SUPPORTED_ARCHITECTURES[type];
  const bad = list?.find((a) => !ok.includes(a));
  if (bad !== undefined) f.fail('architectures', `"${bad}" is not supported for ${type}; supported: ${ok.join(', ')}`);
  return list;
}

function activation(f: JsonFields, key: string, fallback: string): string {
  const act = f.string(key, fallback);
  if (!ACTIVATIONS.has(act)) f.fail(key, `"${act}" is not a transformers activation (e.g. gelu, gelu_new, relu)`);
  return act;
}

/** `eos_token_id` may be an int, null or a list of ints (generation configs use lists). */
function eosTokenId(f: JsonFields, fallback: number): number | number[] | null {
  const v = f.obj.get('eos_token_id');
  if (!Array.isArray(v)) return f.int('eos_token_id', null, { min: 0 }) ?? (v === null ? null : fallback);
  return v.map((x) => new JsonFields(new Map([['eos_token_id', x]]), f.file, f.code).int('eos_token_id', 0, { min: 0 }));
}

/** ViTEmbeddings accepts an int (square) or an iterable [height, width]. */
function pair(f: JsonFields, key: string, fallback: number, max: number): readonly [number, number] {
  const v = f.obj.get(key);
  if (!Array.isArray(v)) {
    const n = f.int(key, fallback, { min: 1, max });
    return [n, n];
  }
  if (v.length !== 2) f.fail(key, `must be an integer or [height, width], found a list of ${v.length}`);
  const one = (x: JsonValue) => new JsonFields(new Map([[key, x]]), f.file, f.code).int(key, 0, { min: 1, max });
  return [one(v[0]), one(v[1])];
}

/**
 * id2label keys are the strings "0".."N−1" (any order, none missing); label2id, when given, must point
 * back at a class of that name (ImageNet repeats names such as "crane", so it may be shorter). Without
 * id2label, PretrainedConfig makes num_labels (default 2) labels LABEL_0, LABEL_1, ….
 */
function parseLabels(f: JsonFields): Pick<VitConfig, 'id2label' | 'label2id' | 'num_labels'> {
  const numLabels = f.int('num_labels', null, { min: 1, max: MAX_LABELS });
  const raw = f.obj.get('id2label');
  let id2label: string[];
  if (raw === undefined || raw === null) {
    id2label = Array.from({ length: numLabels ?? 2 }, (_, i) => `LABEL_${i}`);
  } else {
    if (!(raw instanceof Map)) f.fail('id2label', `must be an object {"0": name, …}, found ${kindOf(raw)}`);
    if (raw.size === 0 || raw.size > MAX_LABELS) f.fail('id2label', `has ${raw.size} labels; must have 1..${MAX_LABELS}`);
    id2label = new Array<string>(raw.size);
    for (const [k, name] of raw) {
      const id = /^(0|[1-9][0-9]*)$/.test(k) ? Number(k) : -1;
      if (id < 0 || id >= raw.size) f.fail('id2label', `key ${JSON.stringify(k)} is not a class id in 0..${raw.size - 1}`);
      if (typeof name !== 'string') f.fail('id2label', `label of class ${k} must be a string, found ${kindOf(name)}`);
      id2label[id] = name; // keys are unique (strict JSON) and in range, so 0..N−1 are all filled
    }
    if (numLabels !== null && numLabels !== raw.size) f.fail('num_labels', `is ${numLabels} but id2label has ${raw.size} labels`);
  }
  return { id2label, label2id: parseLabel2id(f, id2label), num_labels: id2label.length };
}

function parseLabel2id(f: JsonFields, id2label: string[]): Map<string, number> {
  const raw = f.obj.get('label2id');
  if (raw === undefined || raw === null) return new Map(id2label.map((name, id) => [name, id]));
  if (!(raw instanceof Map)) return f.fail('label2id', `must be an object {name: id, …}, found ${kindOf(raw)}`);
  const out = new Map<string, number>();
  for (const [name, v] of raw) {
    // Some Hub configs store the id as a string ("0"); Python's int() accepts both.
    const id = typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v) ? Number(v) : new JsonFields(new Map([['label2id', v]]), f.file, f.code).int('label2id', 0);
    if (id2label[id] !== name) {
      const has = id >= 0 && id < id2label.length ? `id2label[${id}] is ${JSON.stringify(id2label[id])}` : `there is no class ${id}`;
      f.fail('label2id', `maps ${JSON.stringify(name)} to ${id}, but ${has}`);
    }
    out.set(name, id);
  }
  return out;
}

/** Throws if `config` is not the given type (for callers that need one model family). */
export function expectModelType<T extends ModelConfig['model_type']>(config: ModelConfig, type: T, file = CONFIG_FILE): Extract<ModelConfig, { model_type: T }> {
  if (config.model_type !== type) throw new ModelDirError('MODEL_CONFIG', file, `is a ${config.model_type} model; expected ${type}`, { key: 'model_type' });
  return config as Extract<ModelConfig, { model_type: T }>;
}
