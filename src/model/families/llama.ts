// The Llama families (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM) as a
// block-engine family: pre-RMSNorm blocks with rotary positions, separate q/k/v projections into causal
// grouped-query attention (NKV ≤ NH heads of head_dim, which need not be hidden_size / NH), Qwen3's
// per-head q/k RMSNorm before the rotation, and the gated SiLU MLP, over nn.Linear weights ([out, in])
// with biases per role (q/k/v, o, MLP) as the config says; stem = embed_tokens[ids] (no position
// embedding), head = the final RMSNorm and lm_head, tied to embed_tokens or not (../llama/ files).
// Equations: docs/engineering.md#llama-block. Names: canonical = the HF key minus `model.`; PEFT paths keep it.
import type { RopeScalingConfig } from '../../ref/rope_freq';
import type { FamilySpec } from './spec';

/** The config fields the block engine reads (HF names; the derived switches as io/hfModel's LlamaConfig names them). */
export interface LlamaBlockConfig {
  model_type: string;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: RopeScalingConfig | null;
  tie_word_embeddings: boolean;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  qkNorm: boolean;
}

export const LLAMA_ATTENTION = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'] as const;

/** The block-engine spec of a Llama-family config; `tied`: the LM head is embed_tokens. */
export function llamaSpecOf(c: LlamaBlockConfig, tied: boolean): FamilySpec {
  const family = { llama: 'Llama', mistral: 'Mistral', qwen2: 'Qwen2', qwen3: 'Qwen3' }[c.model_type] ?? c.model_type;
  return {
    family,
    norm: 'rmsnorm',
    position: 'rotary',
    mlp: 'gated_silu',
    attention: { causal: true, NH: c.num_attention_heads, NKV: c.num_key_value_heads, HS: c.head_dim, qkNorm: c.qkNorm },
    rotary: { config: { rope_theta: c.rope_theta, rope_scaling: c.rope_scaling }, maxPositions: c.max_position_embeddings },
    C: c.hidden_size, I: c.intermediate_size, L: c.num_hidden_layers, eps: c.rms_norm_eps,
    layout: 'linear',
    modules: { qkv: LLAMA_ATTENTION, o: 'self_attn.o_proj', gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj' },
    norms: { n1: 'input_layernorm', n2: 'post_attention_layernorm', ...(c.qkNorm ? { q: 'self_attn.q_norm', k: 'self_attn.k_norm' } : {}) },
    biases: { qkv: c.qkvBias, o: c.oBias, mlp: c.mlpBias },
    tiedHead: tied,
    blockPrefix: (l) => `layers.${l}.`,
    peftPrefix: (l) => `model.layers.${l}.`,
  };
}
