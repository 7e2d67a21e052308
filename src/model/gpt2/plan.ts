// Activation memory of one GPT-2 training step, planned once per (B, T) (STYLE.md §9): everything
// the forward writes and the backward reads, plus the backward's scratch. Per-layer tensors are
// separate buffers labelled `h.{i}.<field>`; gradient scratch is shared by all layers (the backward
// walks the layers one at a time), as in llm.c.
import type { GpuContext } from '../../gpu/context';
import type { Gpt2Config } from '../../io/hfModel/config';
import { type Gpt2Module, moduleDims } from './weights';

export interface Gpt2LayerActs {
  ln1: GPUBuffer; // (B, T, C) ln_1 output = c_attn input
  ln1Mean: GPUBuffer; // (B, T)
  ln1Rstd: GPUBuffer; // (B, T)
  qkv: GPUBuffer; // (B, T, 3C) c_attn output: Q | K | V columns
  att: GPUBuffer; // (B, NH, T, T) softmax probabilities, 0 above the diagonal
  atty: GPUBuffer; // (B, T, C) attention output = attn.c_proj input
  resMid: GPUBuffer; // (B, T, C) residual after the attention block
  ln2: GPUBuffer; // (B, T, C) ln_2 output = c_fc input
  ln2Mean: GPUBuffer; // (B, T)
  ln2Rstd: GPUBuffer; // (B, T)
  fch: GPUBuffer; // (B, T, I) c_fc output, pre-GELU
  fchGelu: GPUBuffer; // (B, T, I) GELU output = mlp.c_proj input
  /** LoRA hidden h = x·Aᵀ per targeted module of this layer, cached for the backward. */
  loraH: Map<string, GPUBuffer>; // module → (B, T, R)
  /** DoRA only: z = x·W + s·h·Bᵀ before the magnitude scale, and the detached row norms. */
  doraZ: Map<string, GPUBuffer>; // module → (B, T, OUT)
  doraNorm: Map<string, GPUBuffer>; // module → (OUT)
}

export interface Gpt2Acts {
  B: number;
  T: number;
  ids: GPUBuffer; // (B, T) u32 token ids, uploaded per step
  targets: GPUBuffer; // (B, T) i32 shifted labels, −100 ignored, uploaded per step
  /** resid[l] is the input of layer l; resid[L] the input of ln_f. resid[0] = wte[ids] + wpe. */
  resid: GPUBuffer[]; // L + 1 × (B, T, C)
  layers: Gpt2LayerActs[]; // L entries
  proj: GPUBuffer; // (B, T, C) scratch: a c_proj output before its residual add
  lnf: GPUBuffer; // (B, T, C)
  lnfMean: GPUBuffer; // (B, T)
  lnfRstd: GPUBuffer; // (B, T)
  logits: GPUBuffer; // (B, T, V); overwritten by dlogits in the backward
  probs: GPUBuffer; // (B, T, V) softmax, cached for the backward
  losses: GPUBuffer; // (B, T) per-position loss, 0 where ignored
  loss: GPUBuffer; // (2) [mean over non-ignored positions, their count]
  // Backward scratch, shared across layers.
  dresid: GPUBuffer; // (B, T, C) gradient of the residual stream, accumulated through the layers
  dln: GPUBuffer; // (B, T, C) gradient of an LN output (written `=` by a module's backward)
  datty: GPUBuffer; // (B, T, C)
  dqkv: GPUBuffer; // (B, T, 3C)
  dpreatt: GPUBuffer; // (B, NH, T, T)
  dfchGelu: GPUBuffer; // (B, T, I)
  dfch: GPUBuffer; // (B, T, I)
  dh: GPUBuffer; // (B, T, R) LoRA hidden gradient scratch
  dz: GPUBuffer; // (B, T, max OUT) DoRA: gradient of z (1 element without DoRA)
}

/** Which modules of which layers carry LoRA, and its rank (0 when no slot). */
export interface PlanLora {
  R: number;
  modules: (layer: number) => readonly Gpt2Module[];
  dora?: boolean;
}

export function planGpt2Acts(ctx: GpuContext, c: Gpt2Config, B: number, T: number, lora: PlanLora): Gpt2Acts {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`GPT-2 plan: B=${B}, T=${T} must be positive integers`);
  if (T > c.n_positions) throw new Error(`GPT-2 plan: T=${T} exceeds n_positions=${c.n_positions}`);
  const C = c.n_embd, NH = c.n_head, I = c.n_inner, V = c.vocab_size, BT = B * T;
  const f = (label: string, n: number) => ctx.createBuffer(label, n * 4);
  const layers: Gpt2LayerActs[] = [];
  for (let l = 0; l < c.n_layer; l++) {
    const h = `h.${l}.`;
    layers.push({
      ln1: f(`${h}ln1`, BT * C), ln1Mean: f(`${h}ln1Mean`, BT), ln1Rstd: f(`${h}ln1Rstd`, BT),
      qkv: f(`${h}qkv`, BT * 3 * C), att: f(`${h}att`, B * NH * T * T), atty: f(`${h}atty`, BT * C),
      resMid: f(`${h}resMid`, BT * C),
      ln2: f(`${h}ln2`, BT * C), ln2Mean: f(`${h}ln2Mean`, BT), ln2Rstd: f(`${h}ln2Rstd`, BT),
      fch: f(`${h}fch`, BT * I), fchGelu: f(`${h}fchGelu`, BT * I),
      loraH: new Map(lora.modules(l).map((m) => [m, f(`${h}${m}.lora_h`, BT * lora.R)])),
      doraZ: new Map(lora.dora ? lora.modules(l).map((m) => [m, f(`${h}${m}.dora_z`, BT * moduleDims(c, m).OUT)]) : []),
      doraNorm: new Map(lora.dora ? lora.modules(l).map((m) => [m, f(`${h}${m}.dora_norm`, moduleDims(c, m).OUT)]) : []),
    });
  }
  return {
    B, T,
    ids: f('ids', BT), targets: f('targets', BT),
    resid: Array.from({ length: c.n_layer + 1 }, (_, l) => f(`resid.${l}`, BT * C)),
    layers,
    proj: f('proj', BT * C),
    lnf: f('lnf', BT * C), lnfMean: f('lnfMean', BT), lnfRstd: f('lnfRstd', BT),
    logits: f('logits', BT * V), probs: f('probs', BT * V), losses: f('losses', BT), loss: f('loss', 2),
    dresid: f('dresid', BT * C), dln: f('dln', BT * C), datty: f('datty', BT * C), dqkv: f('dqkv', BT * 3 * C),
    dpreatt: f('dpreatt', B * NH * T * T), dfchGelu: f('dfchGelu', BT * I), dfch: f('dfch', BT * I),
    dh: f('dh', BT * Math.max(1, lora.R)),
    dz: f('dz', lora.dora ? BT * Math.max(3 * C, I) : 1),
  };
}

export function destroyGpt2Acts(a: Gpt2Acts): void {
  const all: GPUBuffer[] = [a.ids, a.targets, ...a.resid, a.proj, a.lnf, a.lnfMean, a.lnfRstd, a.logits, a.probs,
    a.losses, a.loss, a.dresid, a.dln, a.datty, a.dqkv, a.dpreatt, a.dfchGelu, a.dfch, a.dh, a.dz];
  for (const l of a.layers) {
    all.push(l.ln1, l.ln1Mean, l.ln1Rstd, l.qkv, l.att, l.atty, l.resMid, l.ln2, l.ln2Mean, l.ln2Rstd, l.fch, l.fchGelu, ...l.loraH.values(),
      ...l.doraZ.values(), ...l.doraNorm.values());
  }
  for (const b of all) b.destroy();
}
