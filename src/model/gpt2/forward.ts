// The GPT-2 forward pass as prepared launches (encoded again every step, never re-prepared):
//   resid[0] = wte[ids] + wpe;  per layer l:
//     ln1 = LN1(resid[l]);  qkv = c_attn(ln1);  atty = causal_attention(qkv)
//     resMid = resid[l] + c_proj(atty);  ln2 = LN2(resMid);  fch = c_fc(ln2)
//     resid[l+1] = resMid + mlp.c_proj(gelu_tanh(fch))
//   lnf = LN_f(resid[L]);  logits = lnf · wteᵀ (tied head);  loss = mean softmax-xent over targets ≠ −100.
// Each Conv1D module is `y = x·W + b` (W [in, out]) or, when targeted, y = x·W + b + s·(x·Aᵀ)·Bᵀ;
// with DoRA y = (m/norm) ⊙ (x·W + s·(x·Aᵀ)·Bᵀ) + b (../dora.ts).
import type { GpuContext, Launch } from '../../gpu/context';
import type { Gpt2Config } from '../../io/hfModel/config';
import { prepareAttentionForward } from '../../kernels/attention';
import { prepareElementwiseAdd } from '../../kernels/elementwise';
import { prepareEmbeddingForward } from '../../kernels/embedding';
import { prepareGeluForward } from '../../kernels/gelu';
import { prepareLayernormForward } from '../../kernels/layernorm';
import { prepareMatmul } from '../../kernels/matmul';
import { prepareSoftmaxXentForward, prepareSoftmaxXentMean } from '../../kernels/softmax_xent';
import { type AdaptedLinear, type LoraSlot, adaptedLinearForward } from '../adaptedLinear';
import type { TrainableArena } from '../arena';
import type { DropoutStreams } from '../lora_dropout';
import type { Gpt2Acts, PlanLora } from './plan';
import type { Gpt2Module, Gpt2Weights } from './weights';

/** Everything a pass needs: the device, the frozen weights, the LoRA slots and arena, the activations. */
export interface Gpt2Parts {
  ctx: GpuContext;
  config: Gpt2Config;
  weights: Gpt2Weights;
  slots: LoraSlot[]; // model order
  byPath: Map<string, LoraSlot>; // by PEFT module path
  arena: TrainableArena;
  acts: Gpt2Acts;
  /** LoRA dropout streams (slot order), in the training passes only; absent = no dropout (eval). */
  dropout?: DropoutStreams;
}

export const modulePath = (layer: number, m: Gpt2Module): string => `transformer.h.${layer}.${m}`;

/** Which modules of which layer carry LoRA (the activations the plan caches for them). */
export function planLora(slots: readonly LoraSlot[]): PlanLora {
  const modules = (layer: number) => slots.filter((s) => s.path.startsWith(`transformer.h.${layer}.`))
    .map((s) => s.path.slice(`transformer.h.${layer}.`.length) as Gpt2Module);
  return { R: slots[0]?.R ?? 0, modules, dora: slots.some((s) => s.m) };
}

/** Module `module` of layer `layer` in pass p (N = B·T rows). */
export function gpt2Linear(p: Gpt2Parts, layer: number, module: Gpt2Module): AdaptedLinear {
  const lin = p.weights.layers[layer].linear[module], N = p.acts.B * p.acts.T;
  const slot = p.byPath.get(modulePath(layer, module));
  if (!slot) return { N, lin };
  const a = p.acts.layers[layer], h = a.loraH.get(module);
  if (!h) throw new Error(`GPT-2 plan has no LoRA hidden buffer for ${slot.path}`);
  return { N, lin, lora: { slot, arena: p.arena, acts: { h, z: a.doraZ.get(module), norm: a.doraNorm.get(module) }, drop: p.dropout?.slot(slot.index) } };
}

/**
 * y = x·W + b, plus the LoRA term when the module is targeted (h cached for the backward). Exported for
 * the generation step (generate.ts), which runs the same modules on its own (1, 1) activations.
 */
export function linearForward(p: Gpt2Parts, layer: number, module: Gpt2Module, x: GPUBuffer, y: GPUBuffer): Promise<Launch[]> {
  return adaptedLinearForward(p.ctx, gpt2Linear(p, layer, module), x, y);
}

async function layerForward(p: Gpt2Parts, l: number): Promise<Launch[]> {
  const { ctx, config: c, acts } = p;
  const { B, T } = acts;
  const a = acts.layers[l];
  const w = p.weights.layers[l];
  const ln = { B, T, C: c.n_embd, eps: c.layer_norm_epsilon };
  const n = B * T * c.n_embd;
  return [
    await prepareLayernormForward(ctx, ln, { x: acts.resid[l], w: w.ln1w, b: w.ln1b, y: a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd }),
    ...await linearForward(p, l, 'attn.c_attn', a.ln1, a.qkv),
    ...await prepareAttentionForward(ctx, { B, T, C: c.n_embd, NH: c.n_head, causal: true }, { qkv: a.qkv, att: a.att, out: a.atty }),
    ...await linearForward(p, l, 'attn.c_proj', a.atty, acts.proj),
    await prepareElementwiseAdd(ctx, { n }, { a: acts.resid[l], b: acts.proj, out: a.resMid }),
    await prepareLayernormForward(ctx, ln, { x: a.resMid, w: w.ln2w, b: w.ln2b, y: a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd }),
    ...await linearForward(p, l, 'mlp.c_fc', a.ln2, a.fch),
    await prepareGeluForward(ctx, { n: B * T * c.n_inner, approximate: 'tanh' }, { x: a.fch, out: a.fchGelu }),
    ...await linearForward(p, l, 'mlp.c_proj', a.fchGelu, acts.proj),
    await prepareElementwiseAdd(ctx, { n }, { a: a.resMid, b: acts.proj, out: acts.resid[l + 1] }),
  ];
}

/** Embeddings → every block → ln_f → logits (B, T, V). Reads ids; writes every cached activation. */
export async function prepareForward(p: Gpt2Parts): Promise<Launch[]> {
  const { ctx, config: c, acts, weights } = p;
  const { B, T } = acts;
  const C = c.n_embd, V = c.vocab_size, L = c.n_layer;
  const launches: Launch[] = [
    await prepareEmbeddingForward(ctx, { B, T, C, V, maxT: c.n_positions }, { ids: acts.ids, wte: weights.wte, wpe: weights.wpe, out: acts.resid[0] }),
  ];
  for (let l = 0; l < L; l++) launches.push(...await layerForward(p, l));
  launches.push(
    await prepareLayernormForward(ctx, { B, T, C, eps: c.layer_norm_epsilon }, {
      x: acts.resid[L], w: weights.lnfw, b: weights.lnfb, y: acts.lnf, mean: acts.lnfMean, rstd: acts.lnfRstd,
    }),
    // logits (BT, V) = lnf (BT, C) · wteᵀ, wte stored (V, C) = (N, K): transB.
    await prepareMatmul(ctx, { M: B * T, N: V, K: C, transB: true }, { a: acts.lnf, b: weights.wte, c: acts.logits }),
  );
  return launches;
}

/** probs, per-position losses, then loss = [mean over targets ≠ −100, count] (one workgroup, fixed order). */
export async function prepareLoss(p: Gpt2Parts): Promise<Launch[]> {
  const { ctx, acts } = p;
  const s = { BT: acts.B * acts.T, V: p.config.vocab_size };
  return [
    await prepareSoftmaxXentForward(ctx, s, { logits: acts.logits, targets: acts.targets, probs: acts.probs, losses: acts.losses }),
    await prepareSoftmaxXentMean(ctx, s, { losses: acts.losses, targets: acts.targets, loss: acts.loss }),
  ];
}
