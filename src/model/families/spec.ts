// What a model family is to the block engine (../block.ts): the kind of each part of a pre-norm
// transformer block, the block's sizes, and the names of its tensors. A family file (gpt2.ts, vit.ts,
// llama.ts) builds one from its config; the stem (embeddings) and head around the block stack stay the
// family's. The kinds cover the transformer families of the HF hub (GPT-2, ViT; Llama, Qwen2, Qwen3,
// Mistral: RMSNorm, rotary positions, gated SiLU MLP, grouped-query attention, q/k norms); a combination
// the engine does not compute is refused by checkImplemented, naming it — never computed as something else.
import type { RopeConfig } from '../../ref/rope_freq';
import type { WeightLayout } from '../adaptedLinear';

export type NormKind = 'layernorm' | 'rmsnorm';
/** learned: the stem adds position embeddings (GPT-2, ViT); rotary: q and k rotate per position in every block. */
export type PositionKind = 'learned' | 'rotary';
/** gelu_tanh: GPT-2's gelu_new; gelu_erf: exact GELU (ViT); gated_silu: down(silu(gate(x)) ⊙ up(x)). */
export type MlpKind = 'gelu_tanh' | 'gelu_erf' | 'gated_silu';

export interface FamilySpec {
  family: string; // for messages: 'GPT-2', 'ViT', 'Llama'
  norm: NormKind;
  position: PositionKind;
  mlp: MlpKind;
  attention: {
    causal: boolean; // GPT-2 and the Llama families yes, ViT no (bidirectional)
    NH: number; // query heads
    NKV: number; // key/value heads: NH for multi-head attention, fewer for grouped-query attention
    HS: number; // head size: C / NH for GPT-2 and ViT; Llama's head_dim (Qwen3 sets it apart from C / NH)
    qkNorm: boolean; // an RMSNorm on each q and k head before the rotation (Qwen3)
  };
  /** Rotary positions only: the config's rope_theta/rope_scaling (../../ref/rope_freq.ts) and the longest sequence. */
  rotary?: { config: RopeConfig; maxPositions: number };
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
  /** The block's two norms (weight, and bias for LayerNorm) and, with qkNorm, the per-head q and k norms. */
  norms: { n1: string; n2: string; q?: string; k?: string };
  /** Which linears carry a bias (GPT-2: all; ViT: all, q/k/v per qkv_bias; Llama: per config); adaptedLinear takes either. */
  biases: { qkv: boolean; o: boolean; mlp: boolean };
  /** LM head = the token embedding (GPT-2); false for an untied lm_head or a task head (ViT's classifier). */
  tiedHead: boolean;
  /** Canonical name prefix of block l (`h.{l}.`) and its PEFT module path prefix (`transformer.h.{l}.`). */
  blockPrefix: (l: number) => string;
  peftPrefix: (l: number) => string;
}

/**
 * How the block computes attention. packed: q | k | v packed into (N, 3C) for the multi-head kernels of
 * GPT-2 and ViT (attention.ts; causal or not). grouped: separate q (N, NH·HS), k and v (N, NKV·HS)
 * buffers for the causal grouped-query kernels (attention_gqa.ts), with rotary positions and q/k norms.
 */
export function attentionPath(s: FamilySpec): 'packed' | 'grouped' {
  return s.modules.qkv.length === 3 && s.attention.causal ? 'grouped' : 'packed';
}

/** Widths of the q and of the k (= v) projections. */
export const qkvWidths = (s: FamilySpec) => ({ QW: s.attention.NH * s.attention.HS, KW: s.attention.NKV * s.attention.HS });

/** Refuses what the block engine does not compute, naming the spec field and the family. */
export function checkImplemented(s: FamilySpec): void {
  const refuse = (what: string) => { throw new Error(`${s.family} engine: ${what} is not implemented`); };
  const { NH, NKV, HS, qkNorm } = s.attention;
  if (s.modules.qkv.length !== 1 && s.modules.qkv.length !== 3) refuse(`${s.modules.qkv.length} q/k/v modules (one fused, or three)`);
  for (const [k, v] of Object.entries({ NH, NKV, HS, C: s.C, I: s.I, L: s.L })) {
    if (!Number.isInteger(v) || v < 1) refuse(`${k}=${v} (must be a positive integer)`);
  }
  if ((s.mlp === 'gated_silu') !== (s.modules.gate !== undefined)) refuse(`mlp '${s.mlp}' ${s.modules.gate ? 'with' : 'without'} a gate module`);
  if (attentionPath(s) === 'packed') {
    // The multi-head kernels of GPT-2 and ViT: C = NH·HS, one K/V head per query head, learned positions.
    if (NKV !== NH) refuse(`grouped-query attention (NKV ${NKV} ≠ NH ${NH}) with ${s.attention.causal ? 'a fused q/k/v module' : 'bidirectional attention'}`);
    if (NH * HS !== s.C) refuse(`head size ${HS} with NH ${NH} ≠ C ${s.C} with ${s.attention.causal ? 'a fused q/k/v module' : 'bidirectional attention'}`);
    if (s.position !== 'learned') refuse(`position '${s.position}' with ${s.attention.causal ? 'a fused q/k/v module' : 'bidirectional attention'}`);
    if (qkNorm) refuse('q/k norms with a fused q/k/v module or bidirectional attention');
    return;
  }
  if (NH % NKV !== 0) refuse(`NH ${NH} not a multiple of NKV ${NKV}`);
  if (qkNorm && (s.norm !== 'rmsnorm' || !s.norms.q || !s.norms.k)) refuse('q/k norms other than RMSNorm weights named by norms.q and norms.k');
  if (s.position === 'rotary') {
    if (!s.rotary) refuse('rotary positions without a rope config');
    if (HS % 2 !== 0) refuse(`rotary positions on an odd head size ${HS}`);
  }
}
