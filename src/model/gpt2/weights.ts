// Frozen GPT-2 base weights on the GPU: every canonical tensor of loadModelDir uploaded once, as F32,
// in its file layout (Conv1D weights stay [in, out]; INTEROP.md §2.3), each buffer labelled by its
// canonical name. Nothing here ever receives a gradient.
import type { GpuContext } from '../../gpu/context';
import type { LoadedGpt2 } from '../../io/hfModel';
import type { Gpt2Config } from '../../io/hfModel/config';
import type { FrozenLinear } from '../adaptedLinear';

import { GPT2_MODULES, type Gpt2Module } from '../../io/hfModel/layout';

export { GPT2_MODULES, type Gpt2Module };

/** (in, out) widths of each of the block's four Conv1D modules. */
export function moduleDims(c: Gpt2Config, m: Gpt2Module): { IN: number; OUT: number } {
  const C = c.n_embd;
  switch (m) {
    case 'attn.c_attn': return { IN: C, OUT: 3 * C };
    case 'attn.c_proj': return { IN: C, OUT: C };
    case 'mlp.c_fc': return { IN: C, OUT: c.n_inner };
    case 'mlp.c_proj': return { IN: c.n_inner, OUT: C };
  }
}

export interface Gpt2LayerWeights {
  ln1w: GPUBuffer; // (C)
  ln1b: GPUBuffer; // (C)
  ln2w: GPUBuffer; // (C)
  ln2b: GPUBuffer; // (C)
  /** Conv1D weight (IN, OUT) and bias (OUT) of each linear module. */
  linear: Record<Gpt2Module, FrozenLinear>;
}

export interface Gpt2Weights {
  wte: GPUBuffer; // (V, C); also the LM head (tied)
  wpe: GPUBuffer; // (n_positions, C)
  layers: Gpt2LayerWeights[]; // L entries
  lnfw: GPUBuffer; // (C)
  lnfb: GPUBuffer; // (C)
  /** Every uploaded buffer by canonical name (for destroy and inspection). */
  byName: Map<string, GPUBuffer>;
}

/** Refuses configs whose forward this engine does not compute, naming the config key. */
export function checkSupportedGpt2(loaded: LoadedGpt2): void {
  const c = loaded.config;
  const fail = (what: string) => { throw new Error(`GPT-2 engine: ${what} is not supported`); };
  if (!loaded.tied) fail('an untied lm_head (tie_word_embeddings false)');
  // gelu_pytorch_tanh is the same formula as gelu_new (torch's fused kernel).
  if (!['gelu_new', 'gelu_pytorch_tanh'].includes(c.activation_function)) {
    fail(`activation_function "${c.activation_function}" (only the tanh form, gelu_new)`);
  }
  if (!c.scale_attn_weights) fail('scale_attn_weights false');
  if (c.scale_attn_by_inverse_layer_idx) fail('scale_attn_by_inverse_layer_idx true');
}

export function uploadGpt2Weights(ctx: GpuContext, loaded: LoadedGpt2): Gpt2Weights {
  checkSupportedGpt2(loaded);
  const byName = new Map<string, GPUBuffer>();
  const get = (name: string): GPUBuffer => {
    let buf = byName.get(name);
    if (!buf) {
      const t = loaded.tensors.get(name);
      if (!t) throw new Error(`GPT-2 engine: canonical tensor ${name} is missing from the loaded model`);
      buf = ctx.upload(name, t.data);
      byName.set(name, buf);
    }
    return buf;
  };
  const layers: Gpt2LayerWeights[] = [];
  for (let i = 0; i < loaded.config.n_layer; i++) {
    const h = `h.${i}.`;
    const linear = Object.fromEntries(GPT2_MODULES.map((m) => [m, { w: get(`${h}${m}.weight`), b: get(`${h}${m}.bias`), layout: 'conv1d', ...moduleDims(loaded.config, m) }]));
    layers.push({
      ln1w: get(`${h}ln_1.weight`), ln1b: get(`${h}ln_1.bias`), ln2w: get(`${h}ln_2.weight`), ln2b: get(`${h}ln_2.bias`),
      linear: linear as Gpt2LayerWeights['linear'],
    });
  }
  return {
    wte: get('wte.weight'), wpe: get('wpe.weight'), layers, lnfw: get('ln_f.weight'), lnfb: get('ln_f.bias'), byName,
  };
}

export function destroyGpt2Weights(w: Gpt2Weights): void {
  for (const b of w.byName.values()) b.destroy();
}
