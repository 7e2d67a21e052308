// Tiny synthetic Llama-family checkpoints (llama, mistral, qwen2, qwen3) with odd sizes, every storage
// dtype, tied or untied, single file or sharded. Names and shapes are written out here from
// docs/formats.md#llama-tensors and transformers' modeling_llama / modeling_qwen2 / modeling_qwen3, not
// from src/io/hfModel/layout.ts, so a wrong layout in the loader cannot confirm itself.
// Values are multiples of 1/64 in [−1, 1]: exact in F16 and BF16, so a converted checkpoint must load
// to exactly the F32 values it was made from.
import { type F32Tensor, shardFileName } from '../../../src/io/safetensors';
import { uniformF32 } from '../../helpers/random';
import { type Files, rawSafetensors } from './fixtures';

/** C 24, NH 3, NKV 1 (MQA), V 37, L 2, I 40; HS = C/NH = 8 unless a family sets head_dim. */
export const LL = { C: 24, NH: 3, NKV: 1, V: 37, L: 2, I: 40 };

export type Family = 'llama' | 'mistral' | 'qwen2' | 'qwen3';
export const ARCH: Record<Family, string> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM',
};

/** A config.json as each family's save_pretrained writes it (qwen3 with head_dim 10 ≠ C/NH). */
export function llamaConfig(family: Family, over: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    architectures: [ARCH[family]],
    model_type: family,
    vocab_size: LL.V,
    hidden_size: LL.C,
    intermediate_size: LL.I,
    num_hidden_layers: LL.L,
    num_attention_heads: LL.NH,
    num_key_value_heads: LL.NKV,
    hidden_act: 'silu',
    max_position_embeddings: 64,
    rms_norm_eps: 1e-6,
    rope_theta: 10000.0,
    rope_scaling: null,
    tie_word_embeddings: family !== 'llama',
    bos_token_id: 1,
    eos_token_id: family === 'llama' ? [2, 3] : 2,
    attention_dropout: 0.0,
    torch_dtype: 'bfloat16',
  };
  if (family === 'llama') Object.assign(base, { attention_bias: false, mlp_bias: false, pretraining_tp: 1 });
  if (family === 'mistral') Object.assign(base, { sliding_window: 4096 });
  if (family === 'qwen2') Object.assign(base, { use_sliding_window: false, sliding_window: 32768, max_window_layers: 21 });
  if (family === 'qwen3') Object.assign(base, { head_dim: 10, attention_bias: false, use_sliding_window: false, sliding_window: null, max_window_layers: 28 });
  return { ...base, ...over };
}

export interface LlamaShape {
  C: number; NH: number; NKV: number; HS: number; V: number; L: number; I: number;
  qkvBias: boolean; oBias: boolean; mlpBias: boolean; qkNorm: boolean; tied: boolean;
}

/** The shape a family's default fixture config implies. */
export function shapeOf(family: Family, over: Partial<LlamaShape> = {}): LlamaShape {
  return {
    ...LL,
    HS: family === 'qwen3' ? 10 : LL.C / LL.NH,
    qkvBias: family === 'qwen2',
    oBias: false,
    mlpBias: false,
    qkNorm: family === 'qwen3',
    tied: family !== 'llama',
    ...over,
  };
}

/** Every parameter, HF names (`model.` prefix; `lm_head.weight` when untied), in model order. */
export function llamaNames(s: LlamaShape, prefix = 'model.'): [string, number[]][] {
  const { C, NH, NKV, HS, V, I } = s;
  const out: [string, number[]][] = [[`${prefix}embed_tokens.weight`, [V, C]]];
  const lin = (name: string, o: number, i: number, bias: boolean) => {
    out.push([`${name}.weight`, [o, i]]);
    if (bias) out.push([`${name}.bias`, [o]]);
  };
  for (let l = 0; l < s.L; l++) {
    const p = `${prefix}layers.${l}.`;
    out.push([`${p}input_layernorm.weight`, [C]]);
    lin(`${p}self_attn.q_proj`, NH * HS, C, s.qkvBias);
    lin(`${p}self_attn.k_proj`, NKV * HS, C, s.qkvBias);
    lin(`${p}self_attn.v_proj`, NKV * HS, C, s.qkvBias);
    lin(`${p}self_attn.o_proj`, C, NH * HS, s.oBias);
    if (s.qkNorm) out.push([`${p}self_attn.q_norm.weight`, [HS]], [`${p}self_attn.k_norm.weight`, [HS]]);
    out.push([`${p}post_attention_layernorm.weight`, [C]]);
    lin(`${p}mlp.gate_proj`, I, C, s.mlpBias);
    lin(`${p}mlp.up_proj`, I, C, s.mlpBias);
    lin(`${p}mlp.down_proj`, C, I, s.mlpBias);
  }
  out.push([`${prefix}norm.weight`, [C]]);
  if (!s.tied) out.push(['lm_head.weight', [V, C]]);
  return out;
}

let seed = 1000;
/** Seeded values, multiples of 1/64 (exact in F16 / BF16); a fresh seed per call. */
export function sixtyFourths(shape: number[]): F32Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = uniformF32(n, seed++).map((x) => Math.round(x * 64) / 64);
  return { shape, data };
}

export type LlamaTensors = Map<string, F32Tensor>;

export function llamaTensors(s: LlamaShape, prefix = 'model.'): LlamaTensors {
  return new Map(llamaNames(s, prefix).map(([n, shape]) => [n, sixtyFourths(shape)]));
}

export type Dtype = 'F32' | 'F16' | 'BF16';

/** One value to F16 bits; exact for the values used here (normal numbers with ≤ 10 mantissa bits, or 0). */
function f16Bits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  const mant = Math.round((a / 2 ** e - 1) * 1024);
  if (e < -14 || e > 15 || mant >= 1024 || (a / 2 ** e - 1) * 1024 !== mant) throw new Error(`${x} is not exact in F16`);
  return sign | ((e + 15) << 10) | mant;
}

function encode(data: Float32Array, dtype: Dtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(2 * data.length);
  const u32 = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < data.length; i++) {
    let bits: number;
    if (dtype === 'BF16') {
      if ((u32[i] & 0xffff) !== 0) throw new Error(`${data[i]} is not exact in BF16`);
      bits = u32[i] >>> 16;
    } else bits = f16Bits(data[i]);
    out[2 * i] = bits & 0xff;
    out[2 * i + 1] = bits >> 8;
  }
  return out;
}

/** A safetensors file of these tensors stored as `dtype`. */
export function stored(tensors: Iterable<[string, F32Tensor]>, dtype: Dtype): Uint8Array {
  return rawSafetensors([...tensors].map(([name, t]) => ({ name, dtype, shape: [...t.shape], bytes: encode(t.data, dtype) })));
}

/** config.json + model.safetensors, or `shards` shards (contiguous runs of the list) + index. */
export function llamaFolder(config: object, tensors: LlamaTensors, dtype: Dtype = 'F32', shards = 0): Files {
  const files: Files = new Map([['config.json', JSON.stringify(config, null, 2)]]);
  if (shards === 0) {
    files.set('model.safetensors', stored(tensors, dtype));
    return files;
  }
  const list = [...tensors];
  const per = Math.ceil(list.length / shards);
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let k = 0; k < shards; k++) {
    const part = list.slice(k * per, (k + 1) * per);
    const name = shardFileName(k + 1, shards);
    files.set(name, stored(part, dtype));
    for (const [n, x] of part) {
      weightMap[n] = name;
      total += x.data.length * (dtype === 'F32' ? 4 : 2);
    }
  }
  files.set('model.safetensors.index.json', JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
  return files;
}
