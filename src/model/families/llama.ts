// The Llama families (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM) as a
// block-engine family: pre-RMSNorm blocks with rotary positions, separate q/k/v projections into causal
// grouped-query attention (NKV ≤ NH heads of head_dim, which need not be hidden_size / NH), Qwen3's
// per-head q/k RMSNorm before the rotation, and the gated SiLU MLP, over nn.Linear weights ([out, in])
// with biases per role (q/k/v, o, MLP) as the config says; stem = embed_tokens[ids] (no position
// embedding), head = the final RMSNorm and lm_head, tied to embed_tokens or not (../llama/ files).
// Equations: docs/engineering.md#llama-block. Names: canonical = the HF key minus `model.`; PEFT paths keep it.
import { LLAMA_MODULES, type LoadedLlama } from '../../io/hfModel';
import type { RopeScalingConfig } from '../../ref/rope_freq';
import type { FamilySpec } from './spec';

export { LLAMA_MODULES };

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
  /** Mistral/Qwen2 sliding_window when in force, else null: the engine refuses a longer sequence. */
  slidingWindow?: number | null;
}

/** The config fields the whole model reads beyond the blocks. */
export interface LlamaModelConfig extends LlamaBlockConfig {
  vocab_size: number;
}

/** What the engine needs of a loaded Llama (io/hfModel's LoadedLlama has it): the config, the canonical tensors, tied or not. */
export interface LlamaSource {
  config: LlamaModelConfig;
  tensors: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>;
  tied: boolean;
}

export const LLAMA_ATTENTION = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'] as const;

/** The spec of a loaded Llama-family model (its config was checked, key by key, when it was parsed). */
export const llamaSpec = (loaded: LoadedLlama): FamilySpec => llamaSpecOf(loaded.config, loaded.tied);

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

/**
 * Refuses a sequence of T positions the engine cannot compute exactly: beyond max_position_embeddings
 * (the rope table), or longer than a sliding window in force (every position would need masking that
 * full causal attention does not do).
 */
export function checkLlamaLength(c: LlamaBlockConfig, T: number, what: string): void {
  if (T > c.max_position_embeddings) throw new Error(`${what} of ${T} tokens exceeds max_position_embeddings=${c.max_position_embeddings}`);
  if (c.slidingWindow != null && T > c.slidingWindow) {
    throw new Error(`${what} of ${T} tokens exceeds the model's sliding_window=${c.slidingWindow} (attention over a sliding window is not implemented)`);
  }
}

/**
 * The LoRA-capable linears of a Llama-family model in model order (layer, then q, k, v, o, gate, up,
 * down), as io/peft's loraModules lists them for a loaded Llama (the engine also takes a bare source): PEFT path `model.layers.{l}.<module>`, canonical weight,
 * nn.Linear layout, IN/OUT from the stored [out, in] shape.
 */
export function llamaLoraModules(src: Pick<LlamaSource, 'tensors'>, spec: FamilySpec): { path: string; weight: string; layout: 'linear'; IN: number; OUT: number }[] {
  const out: { path: string; weight: string; layout: 'linear'; IN: number; OUT: number }[] = [];
  for (let l = 0; l < spec.L; l++) {
    for (const m of LLAMA_MODULES) {
      const weight = `${spec.blockPrefix(l)}${m}.weight`;
      const t = src.tensors.get(weight);
      if (!t || t.shape.length !== 2) throw new Error(`${spec.family} engine: no 2-D weight ${weight}`);
      out.push({ path: `${spec.peftPrefix(l)}${m}`, weight, layout: 'linear', IN: t.shape[1], OUT: t.shape[0] });
    }
  }
  return out;
}

/** The longest sequence the engine computes for this config: max_position_embeddings, or a shorter sliding window in force. */
export const llamaContext = (c: LlamaBlockConfig): number => Math.min(c.max_position_embeddings, c.slidingWindow ?? Infinity);
