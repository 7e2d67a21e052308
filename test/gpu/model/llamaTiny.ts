// Tiny Llama-family models built in the test from seeded random weights, at the odd shapes the block
// engine must handle (GQA ratios, head_dim ≠ hidden/heads, biases, q/k norms, rope scaling): the config
// the spec is built from (src/model/families/llama.ts), every canonical tensor, and the LoRA-capable
// modules in model order as io/peft lists them (PEFT path, canonical weight, nn.Linear layout).
import type { LoraModule } from '../../../src/io/peft';
import { blockModules } from '../../../src/model/block';
import { type LlamaBlockConfig, type LlamaSource, llamaSpecOf } from '../../../src/model/families/llama';
import type { FamilySpec } from '../../../src/model/families/spec';
import { uniformF32 } from '../../helpers/random';

export interface TinyLlama {
  config: LlamaBlockConfig;
  spec: FamilySpec;
  V: number;
  tensors: Map<string, { data: Float32Array; shape: number[] }>;
  modules: LoraModule[];
}

export type TinyOptions = Partial<LlamaBlockConfig> & { V?: number; tied?: boolean; seed?: number };

export function tinyLlama(o: TinyOptions = {}): TinyLlama {
  const NH = o.num_attention_heads ?? 4;
  const config: LlamaBlockConfig = {
    model_type: 'llama', hidden_size: 12, intermediate_size: 10, num_hidden_layers: 2,
    num_attention_heads: NH, num_key_value_heads: NH, head_dim: 4, max_position_embeddings: 64,
    rms_norm_eps: 1e-6, rope_theta: 10000, rope_scaling: null, tie_word_embeddings: o.tied ?? true,
    qkvBias: false, oBias: false, mlpBias: false, qkNorm: false, ...o,
  };
  const spec = llamaSpecOf(config, o.tied ?? true);
  const V = o.V ?? 23;
  const { C, I, L } = spec, { NKV, HS } = spec.attention;
  let seed = o.seed ?? 1;
  const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
  // Weights U(−1/√IN, 1/√IN) keep activations O(1); norm weights around 1 so they matter but do not vanish.
  const put = (name: string, shape: number[], lo: number, hi: number) => {
    tensors.set(name, { data: uniformF32(shape.reduce((a, b) => a * b, 1), seed++, lo, hi), shape });
  };
  const linearShape: Record<string, [number, number]> = {
    'self_attn.q_proj': [NH * HS, C], 'self_attn.k_proj': [NKV * HS, C], 'self_attn.v_proj': [NKV * HS, C],
    'self_attn.o_proj': [C, NH * HS], 'mlp.gate_proj': [I, C], 'mlp.up_proj': [I, C], 'mlp.down_proj': [C, I],
  };
  put('embed_tokens.weight', [V, C], -1, 1);
  const modules: LoraModule[] = [];
  for (let l = 0; l < L; l++) {
    const h = spec.blockPrefix(l);
    put(`${h}input_layernorm.weight`, [C], 0.5, 1.5);
    put(`${h}post_attention_layernorm.weight`, [C], 0.5, 1.5);
    if (config.qkNorm) {
      put(`${h}self_attn.q_norm.weight`, [HS], 0.5, 1.5);
      put(`${h}self_attn.k_norm.weight`, [HS], 0.5, 1.5);
    }
    for (const m of blockModules(spec)) {
      const [OUT, IN] = linearShape[m], bound = 1 / Math.sqrt(IN);
      put(`${h}${m}.weight`, [OUT, IN], -bound, bound);
      const hasBias = m.startsWith('self_attn.o') ? config.oBias : m.startsWith('self_attn') ? config.qkvBias : config.mlpBias;
      if (hasBias) put(`${h}${m}.bias`, [OUT], -0.5, 0.5);
      modules.push({ path: `${spec.peftPrefix(l)}${m}`, weight: `${h}${m}.weight`, layout: 'linear', IN, OUT });
    }
  }
  put('norm.weight', [C], 0.5, 1.5);
  if (!(o.tied ?? true)) put('lm_head.weight', [V, C], -0.5, 0.5);
  return { config, spec, V, tensors, modules };
}

/** The engine's view of a tiny model (what a loaded Llama gives it). */
export const sourceOf = (m: TinyLlama, extra: Partial<LlamaSource['config']> = {}): LlamaSource =>
  ({ config: { ...m.config, vocab_size: m.V, ...extra }, tensors: m.tensors, tied: m.spec.tiedHead });
