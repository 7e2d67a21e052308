// What a model family is to the block engine (../block.ts): the kind of each part of a pre-norm
// transformer block, the block's sizes, and the names of its tensors. A family file (gpt2.ts, vit.ts)
// builds one from its config; the stem (embeddings) and head around the block stack stay the family's.
// The kinds list what the transformer families of the HF hub need (Llama, Qwen2, Qwen3, Mistral: RMSNorm,
// rotary positions, gated SiLU MLP, grouped-query attention, q/k norms, untied heads); a value the engine
// does not compute yet is refused by checkImplemented, naming it — never computed as something else.
import type { WeightLayout } from '../adaptedLinear';

export type NormKind = 'layernorm' | 'rmsnorm';
export type PositionKind = 'learned' | 'rotary';
/** gelu_tanh: GPT-2's gelu_new; gelu_erf: exact GELU (ViT); gated_silu: down(silu(gate(x)) ⊙ up(x)). */
export type MlpKind = 'gelu_tanh' | 'gelu_erf' | 'gated_silu';

export interface FamilySpec {
  family: string; // for messages: 'GPT-2', 'ViT'
  norm: NormKind;
  position: PositionKind;
  mlp: MlpKind;
  attention: {
    causal: boolean; // GPT-2 yes, ViT no (bidirectional)
    NH: number; // query heads
    NKV: number; // key/value heads: NH for multi-head attention, fewer for grouped-query attention
    qkNorm: boolean; // a norm on q and k per head (Qwen3)
  };
  C: number; // hidden width
  I: number; // MLP width
  L: number; // blocks
  eps: number; // the norms' epsilon
  /** Weight layout of every block linear: Conv1D [in, out] (GPT-2) or nn.Linear [out, in]. */
  layout: WeightLayout;
  /**
   * The block's linear modules by role, named under the block prefix: `qkv` is one fused module (GPT-2
   * c_attn, OUT = 3C) or q, k, v in that order; `gate` only for gated_silu.
   */
  modules: { qkv: readonly string[]; o: string; up: string; gate?: string; down: string };
  /** The block's two norms, named under the block prefix (weight, and bias for LayerNorm). */
  norms: { n1: string; n2: string };
  /** Which linears carry a bias (GPT-2: all; ViT: all, q/k/v per qkv_bias; Llama: none); adaptedLinear takes either. */
  biases: { qkv: boolean; o: boolean; mlp: boolean };
  /** LM head = the token embedding (GPT-2); false for an untied lm_head or a task head (ViT's classifier). */
  tiedHead: boolean;
  /** Canonical name prefix of block l (`h.{l}.`) and its PEFT module path prefix (`transformer.h.{l}.`). */
  blockPrefix: (l: number) => string;
  peftPrefix: (l: number) => string;
}

/** Refuses what the block engine does not compute yet, naming the spec field and the family. */
export function checkImplemented(s: FamilySpec): void {
  const refuse = (what: string) => { throw new Error(`${s.family} engine: ${what} is not implemented yet`); };
  if (s.norm !== 'layernorm') refuse(`norm '${s.norm}' (only LayerNorm)`);
  if (s.position !== 'learned') refuse(`position '${s.position}' (only learned position embeddings)`);
  if (s.mlp === 'gated_silu' || s.modules.gate !== undefined) refuse('the gated SiLU MLP');
  if (s.attention.NKV !== s.attention.NH) refuse(`grouped-query attention (NKV ${s.attention.NKV} ≠ NH ${s.attention.NH})`);
  if (s.attention.qkNorm) refuse('q/k norms');
  if (s.modules.qkv.length !== 1 && s.modules.qkv.length !== 3) refuse(`${s.modules.qkv.length} q/k/v modules (one fused, or three)`);
  if (!Number.isInteger(s.C / s.attention.NH)) refuse(`C ${s.C} not divisible by NH ${s.attention.NH}`);
}
