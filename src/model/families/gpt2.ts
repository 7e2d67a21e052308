// GPT-2 (GPT2LMHeadModel) as a block-engine family: pre-LayerNorm blocks with learned positions, a fused
// c_attn, GELU (tanh form) and causal multi-head attention over Conv1D linears ([in, out], every one
// with a bias); stem = wte[ids] + wpe, head = ln_f and the LM head tied to wte (./gpt2 files in
// ../gpt2/). Config reader: io/hfModel/config.ts (parseGpt2Config); name map: io/hfModel/layout.ts.
import type { LoadedGpt2 } from '../../io/hfModel';
import type { FamilySpec } from './spec';

/** The spec of a loaded GPT-2; refuses the config options whose forward this engine does not compute, naming the key. */
export function gpt2Spec(loaded: LoadedGpt2): FamilySpec {
  const c = loaded.config;
  const fail = (what: string) => { throw new Error(`GPT-2 engine: ${what} is not supported`); };
  if (!loaded.tied) fail('an untied lm_head (tie_word_embeddings false)');
  // gelu_pytorch_tanh is the same formula as gelu_new (torch's fused kernel).
  if (!['gelu_new', 'gelu_pytorch_tanh'].includes(c.activation_function)) {
    fail(`activation_function "${c.activation_function}" (only the tanh form, gelu_new)`);
  }
  if (!c.scale_attn_weights) fail('scale_attn_weights false');
  if (c.scale_attn_by_inverse_layer_idx) fail('scale_attn_by_inverse_layer_idx true');
  return {
    family: 'GPT-2',
    norm: 'layernorm',
    position: 'learned',
    mlp: 'gelu_tanh',
    attention: { causal: true, NH: c.n_head, NKV: c.n_head, HS: c.n_embd / c.n_head, qkNorm: false },
    C: c.n_embd, I: c.n_inner, L: c.n_layer, eps: c.layer_norm_epsilon,
    layout: 'conv1d',
    modules: { qkv: ['attn.c_attn'], o: 'attn.c_proj', up: 'mlp.c_fc', down: 'mlp.c_proj' },
    norms: { n1: 'ln_1', n2: 'ln_2' },
    biases: { qkv: true, o: true, mlp: true },
    tiedHead: true,
    blockPrefix: (l) => `h.${l}.`,
    peftPrefix: (l) => `transformer.h.${l}.`,
  };
}
