// The CPU-reference GPT-2 forward (docs/engineering.md#cpu-reference): the same graph as forward.ts, built only from the
// src/ref kernels, in Float32Array. An independent path to check the GPU engine against (B = 0 must
// give the base logits) and to bisect a mismatch with the PyTorch fixture.
import type { LoadedGpt2 } from '../../io/hfModel';
import { attentionForward } from '../../ref/attention';
import { elementwiseAdd } from '../../ref/elementwise';
import { embeddingForward } from '../../ref/embedding';
import { geluForward } from '../../ref/gelu';
import { layernormForward } from '../../ref/layernorm';
import { loraForward } from '../../ref/lora';
import { matmul } from '../../ref/matmul';
import { GPT2_MODULES, type Gpt2Module, moduleDims } from './weights';

/** LoRA weights by module path (`transformer.h.{i}.<module>`); absent modules are plain Conv1D. */
export type ReferenceLora = Map<string, { A: Float32Array; B: Float32Array; R: number; scale: number }>;

export function referenceGpt2Logits(
  loaded: LoadedGpt2, ids: Uint32Array, B: number, T: number, lora: ReferenceLora = new Map(),
): Float32Array {
  const c = loaded.config;
  const C = c.n_embd, V = c.vocab_size, N = B * T;
  const t = (name: string): Float32Array => {
    const x = loaded.tensors.get(name);
    if (!x) throw new Error(`reference GPT-2: missing ${name}`);
    return x.data;
  };
  const linear = (l: number, m: Gpt2Module, x: Float32Array): Float32Array => {
    const { IN, OUT } = moduleDims(c, m);
    const w = t(`h.${l}.${m}.weight`), bias = t(`h.${l}.${m}.bias`);
    const y = new Float32Array(N * OUT);
    const ad = lora.get(`transformer.h.${l}.${m}`);
    if (!ad) matmul(y, x, w, bias, { M: N, N: OUT, K: IN });
    else loraForward(y, new Float32Array(N * ad.R), x, w, bias, ad.A, ad.B, { N, IN, OUT, R: ad.R, scale: ad.scale, conv1d: true });
    return y;
  };
  const ln = (x: Float32Array, name: string): Float32Array => {
    const y = new Float32Array(N * C);
    layernormForward(y, new Float32Array(N), new Float32Array(N), x, t(`${name}.weight`), t(`${name}.bias`), { B, T, C, eps: c.layer_norm_epsilon });
    return y;
  };
  const add = (a: Float32Array, b: Float32Array): Float32Array => {
    const out = new Float32Array(a.length);
    elementwiseAdd(out, a, b, { n: a.length });
    return out;
  };
  let x: Float32Array = new Float32Array(N * C);
  embeddingForward(x, ids, t('wte.weight'), t('wpe.weight'), { B, T, C, V, maxT: c.n_positions });
  for (let l = 0; l < c.n_layer; l++) {
    const qkv = linear(l, GPT2_MODULES[0], ln(x, `h.${l}.ln_1`));
    const atty = new Float32Array(N * C);
    attentionForward(atty, new Float32Array(B * c.n_head * T * T), qkv, { B, T, C, NH: c.n_head, causal: true });
    const mid = add(x, linear(l, 'attn.c_proj', atty));
    const fch = linear(l, 'mlp.c_fc', ln(mid, `h.${l}.ln_2`));
    const act = new Float32Array(fch.length);
    geluForward(act, fch, { n: fch.length, approximate: 'tanh' });
    x = add(mid, linear(l, 'mlp.c_proj', act));
  }
  const logits = new Float32Array(N * V);
  matmul(logits, ln(x, 'ln_f'), t('wte.weight'), null, { M: N, N: V, K: C, transB: true });
  return logits;
}
