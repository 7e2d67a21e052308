// config.json of a Llama-family decoder (docs/formats.md#llama-config): model_type llama, mistral, qwen2
// or qwen3 → one LlamaConfig. Field names are the transformers attribute names; absent keys take the
// defaults of that family's config class (LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config — they
// differ: Qwen3's head_dim defaults to 128, not hidden_size / num_attention_heads). The family switches
// (biases, q/k norm, sliding window) are resolved here into camelCase fields so that no later code asks
// "which family?". Anything the engine cannot compute exactly is refused with MODEL_CONFIG naming the key:
// never approximated (docs/formats.md#llama-refusals).
import { invFreq, RopeConfigError, type RopeScalingConfig } from '../../ref/rope_freq';
import { isNumber, JsonFields, kindOf, type JsonObject, type JsonValue } from './json';

export type LlamaFamily = 'llama' | 'mistral' | 'qwen2' | 'qwen3';
export const LLAMA_FAMILIES: readonly LlamaFamily[] = ['llama', 'mistral', 'qwen2', 'qwen3'];

/** The transformers model class of each family (what `architectures` names). */
export const LLAMA_ARCHITECTURES = {
  llama: ['LlamaForCausalLM'],
  mistral: ['MistralForCausalLM'],
  qwen2: ['Qwen2ForCausalLM'],
  qwen3: ['Qwen3ForCausalLM'],
} as const;

export interface LlamaConfig {
  model_type: LlamaFamily;
  architectures: string[];
  vocab_size: number; // V
  hidden_size: number; // C
  intermediate_size: number; // I
  num_hidden_layers: number; // L
  num_attention_heads: number; // NH
  num_key_value_heads: number; // NKV (default NH); NH % NKV == 0
  head_dim: number; // HS; may differ from C / NH (Qwen3)
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  /** null = plain RoPE; otherwise linear or llama3, already validated by src/ref/rope_freq.ts. */
  rope_scaling: RopeScalingConfig | null;
  tie_word_embeddings: boolean;
  /** q/k/v_proj have `.bias` (llama: attention_bias; qwen2: always; qwen3: attention_bias; mistral: never). */
  qkvBias: boolean;
  /** o_proj has `.bias` (llama, qwen3: attention_bias; qwen2, mistral: never). */
  oBias: boolean;
  /** gate/up/down_proj have `.bias` (llama: mlp_bias; others never). */
  mlpBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (qwen3 only). */
  qkNorm: boolean;
  bos_token_id: number | null;
  /** An int or a list in the file; always a list here (generation stops at any of them). */
  eos_token_id: number[];
  /** The attention window when one is in force (mistral; qwen2/3 with use_sliding_window), else null. */
  slidingWindow: number | null;
  /** The whole file, for export (as Gpt2Config keeps it). */
  raw: JsonObject;
}

interface FamilyDefaults {
  vocab_size: number;
  intermediate_size: number;
  num_key_value_heads: number | null; // null: = num_attention_heads
  head_dim: number | null; // null: = hidden_size / num_attention_heads
  max_position_embeddings: number;
  bos_token_id: number | null;
  eos_token_id: number | null;
  sliding_window: number | null;
}

// From the __init__ signatures of the four config classes (transformers 4.4x–4.5x).
const DEFAULTS: Record<LlamaFamily, FamilyDefaults> = {
  llama: { vocab_size: 32000, intermediate_size: 11008, num_key_value_heads: null, head_dim: null, max_position_embeddings: 2048, bos_token_id: 1, eos_token_id: 2, sliding_window: null },
  mistral: { vocab_size: 32000, intermediate_size: 14336, num_key_value_heads: 8, head_dim: null, max_position_embeddings: 4096 * 32, bos_token_id: 1, eos_token_id: 2, sliding_window: 4096 },
  qwen2: { vocab_size: 151936, intermediate_size: 22016, num_key_value_heads: 32, head_dim: null, max_position_embeddings: 32768, bos_token_id: null, eos_token_id: null, sliding_window: 4096 },
  qwen3: { vocab_size: 151936, intermediate_size: 22016, num_key_value_heads: 32, head_dim: 128, max_position_embeddings: 32768, bos_token_id: null, eos_token_id: null, sliding_window: 4096 },
};

// Caps keep every tensor's element count a safe integer (Llama-3-70B: C 8192, I 28672, V 128256).
const MAX_WIDTH = 1 << 15;
const MAX_MLP = 1 << 17;
const MAX_LAYERS = 1024;
const MAX_VOCAB = 1 << 22;
const MAX_POSITIONS = 1 << 24; // no tensor depends on it (RoPE has no position table in the file)

/** Keys that, when present and not neutral, change the computation in a way the engine does not do. */
const REFUSED_KEYS: Record<string, string> = {
  quantization_config: 'quantized checkpoints are not supported; load the unquantized (F32/F16/BF16) weights',
};

export function parseLlamaConfig(f: JsonFields, family: LlamaFamily): LlamaConfig {
  const d = DEFAULTS[family];
  for (const [key, why] of Object.entries(REFUSED_KEYS)) if (f.obj.has(key) && f.obj.get(key) !== null) f.fail(key, why);
  const hidden_size = f.int('hidden_size', 4096, { min: 1, max: MAX_WIDTH });
  const heads = f.int('num_attention_heads', 32, { min: 1, max: MAX_WIDTH });
  // Absent: the class default; null: every config class sets it to num_attention_heads (plain multi-head).
  const kvHeads = f.int('num_key_value_heads', null, { min: 1, max: MAX_WIDTH }) ?? (f.obj.has('num_key_value_heads') ? heads : d.num_key_value_heads ?? heads);
  if (heads % kvHeads !== 0) {
    f.fail('num_key_value_heads', `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads} (grouped-query attention needs whole groups)`);
  }
  const head_dim = headDim(f, d, hidden_size, heads);
  const num_hidden_layers = f.int('num_hidden_layers', 32, { min: 1, max: MAX_LAYERS });
  const hiddenAct = f.string('hidden_act', 'silu');
  if (hiddenAct !== 'silu') f.fail('hidden_act', `"${hiddenAct}" is not supported; the gated MLP is computed with silu only`);
  const attentionDropout = f.float('attention_dropout', 0, { min: 0, max: 1 });
  if (attentionDropout > 0) f.fail('attention_dropout', `${attentionDropout} is not supported; training dropout is LoRA dropout only (set it to 0.0)`);
  // pretraining_tp > 1 made old modeling_llama split each matmul into slices and sum them: the same
  // function, so any positive value is accepted (newer transformers ignore the key).
  f.int('pretraining_tp', 1, { min: 1 });
  const rope = ropeFields(f, head_dim);
  const attentionBias = family === 'llama' || family === 'qwen3' ? f.bool('attention_bias', false) : false;
  const mlpBias = family === 'llama' ? f.bool('mlp_bias', false) : false;
  return {
    model_type: family,
    architectures: architectures(f, family),
    vocab_size: f.int('vocab_size', d.vocab_size, { min: 1, max: MAX_VOCAB }),
    hidden_size,
    intermediate_size: f.int('intermediate_size', d.intermediate_size, { min: 1, max: MAX_MLP }),
    num_hidden_layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim,
    max_position_embeddings: f.int('max_position_embeddings', d.max_position_embeddings, { min: 1, max: MAX_POSITIONS }),
    rms_norm_eps: f.float('rms_norm_eps', 1e-6, { exclusiveMin: 0 }),
    rope_theta: rope.theta,
    rope_scaling: rope.scaling,
    tie_word_embeddings: f.bool('tie_word_embeddings', false),
    qkvBias: family === 'qwen2' ? true : attentionBias,
    oBias: attentionBias,
    mlpBias,
    qkNorm: family === 'qwen3',
    bos_token_id: f.int('bos_token_id', null, { min: 0 }) ?? (f.obj.has('bos_token_id') ? null : d.bos_token_id),
    eos_token_id: eosList(f, d.eos_token_id),
    slidingWindow: slidingWindow(f, family, d, num_hidden_layers),
    raw: f.obj,
  };
}

/** head_dim: explicit (Qwen3 default 128), or hidden_size / num_attention_heads, which must divide. */
function headDim(f: JsonFields, d: FamilyDefaults, hidden: number, heads: number): number {
  let hd = f.int('head_dim', null, { min: 1, max: MAX_WIDTH });
  if (hd === null && d.head_dim !== null) hd = d.head_dim;
  if (hd === null) {
    if (hidden % heads !== 0) f.fail('num_attention_heads', `hidden_size ${hidden} is not divisible by num_attention_heads ${heads}, and config.json sets no head_dim`);
    hd = hidden / heads;
  }
  if (hd % 2 !== 0) f.fail('head_dim', `${hd}${f.obj.has('head_dim') ? '' : ' (derived)'} is odd; rotary embedding rotates pairs of halves, so it must be even`);
  if (heads * hd > MAX_WIDTH) f.fail('head_dim', `num_attention_heads · head_dim = ${heads * hd} exceeds ${MAX_WIDTH}`);
  return hd;
}

/**
 * rope_theta / rope_scaling (transformers ≤ 4.5x) or rope_parameters (transformers ≥ 5: one object with
 * rope_type and rope_theta), validated with the same code that computes the frequencies.
 */
function ropeFields(f: JsonFields, hd: number): { theta: number; scaling: RopeScalingConfig | null } {
  const partial = f.float('partial_rotary_factor', 1, { exclusiveMin: 0, max: 1 });
  let theta = f.float('rope_theta', 10000, { exclusiveMin: 0 });
  let scaling: RopeScalingConfig | null = null;
  let key = 'rope_scaling';
  const params = f.obj.get('rope_parameters');
  if (params !== undefined && params !== null) {
    key = 'rope_parameters';
    const p = ropeObject(f, key, params);
    if (p.rope_theta !== undefined) theta = p.rope_theta;
    const type = p.rope_type ?? p.type ?? 'default';
    if (type !== 'default') scaling = p;
  }
  const sc = f.obj.get('rope_scaling');
  if (sc !== undefined && sc !== null) {
    if (key === 'rope_parameters') f.fail('rope_scaling', 'is set together with rope_parameters; keep one of them');
    scaling = ropeObject(f, 'rope_scaling', sc);
  }
  try {
    invFreq({ rope_theta: theta, rope_scaling: scaling, partial_rotary_factor: partial }, hd);
  } catch (e) {
    if (!(e instanceof RopeConfigError)) throw e;
    const k = e.key.startsWith('rope_scaling.') ? `${key}.${e.key.slice('rope_scaling.'.length)}` : e.key;
    f.fail(k, e.message.replace(/^config\.json [^:]+: /, ''));
  }
  return { theta, scaling };
}

/** A rope_scaling / rope_parameters object: strings stay strings, numbers become numbers. */
function ropeObject(f: JsonFields, key: string, v: JsonValue): RopeScalingConfig & { rope_theta?: number } {
  if (!(v instanceof Map)) return f.fail(key, `must be an object or null, found ${kindOf(v)}`);
  const out: Record<string, unknown> = {};
  for (const [k, x] of v) {
    if (isNumber(x)) out[k] = f.checkFloat(`${key}.${k}`, x);
    else if (typeof x === 'string' || x === null) out[k] = x ?? undefined;
    else out[k] = x; // lists (mrope_section, …) belong to types that invFreq refuses by name
  }
  return out as RopeScalingConfig & { rope_theta?: number };
}

/**
 * The window in force. Mistral: sliding_window (null disables it). Qwen2/Qwen3: only with
 * use_sliding_window true, and then only on layers ≥ max_window_layers (or the layers layer_types marks
 * "sliding_attention"); a window no layer uses is no window.
 */
function slidingWindow(f: JsonFields, family: LlamaFamily, d: FamilyDefaults, L: number): number | null {
  if (family === 'llama') return null;
  const window = f.obj.has('sliding_window') ? f.int('sliding_window', null, { min: 1 }) : d.sliding_window; // null disables it
  const types = layerTypes(f, L);
  if (family === 'mistral') return window;
  const use = f.bool('use_sliding_window', false);
  if (!use || window === null) return null;
  const maxWindowLayers = f.int('max_window_layers', 28, { min: 0 });
  const anySliding = types ? types.includes('sliding_attention') : maxWindowLayers < L;
  return anySliding ? window : null;
}

function layerTypes(f: JsonFields, L: number): string[] | null {
  const types = f.stringList('layer_types');
  if (types === null) return null;
  if (types.length !== L) f.fail('layer_types', `has ${types.length} entries for num_hidden_layers ${L}`);
  const bad = types.find((t) => t !== 'full_attention' && t !== 'sliding_attention');
  if (bad !== undefined) f.fail('layer_types', `"${bad}" is not supported (only "full_attention" and "sliding_attention")`);
  return types;
}

function architectures(f: JsonFields, family: LlamaFamily): string[] {
  const list = f.stringList('architectures');
  const ok: readonly string[] = LLAMA_ARCHITECTURES[family];
  const bad = list?.find((a) => !ok.includes(a));
  if (bad !== undefined) f.fail('architectures', `"${bad}" is not supported for ${family}; supported: ${ok.join(', ')}`);
  return list ?? [];
}

/** eos_token_id: int, null or list of ints → a list (empty when null). */
function eosList(f: JsonFields, fallback: number | null): number[] {
  const v = f.obj.get('eos_token_id');
  if (v === undefined) return fallback === null ? [] : [fallback];
  if (v === null) return [];
  if (!Array.isArray(v)) return [f.int('eos_token_id', 0, { min: 0 })];
  return v.map((x) => new JsonFields(new Map([['eos_token_id', x]]), f.file, f.code).int('eos_token_id', 0, { min: 0 }));
}
