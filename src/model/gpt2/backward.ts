// The GPT-2 backward pass as prepared launches, the reverse of forward.ts. Only LoRA A and B get
// gradients (accumulated `+=` into the flat grads buffer: zero it before a fresh step); base weights,
// LayerNorms and embeddings are frozen, so their parameter gradients are never computed.
//   dlogits = (probs − onehot(target)) / count   (overwrites the logits buffer)
//   dlnf = dlogits · wte;  dresid = LN_fᵀ(dlnf)
//   per layer, last first:  dresid is d(resid[l+1])
//     dfchGelu = mlp.c_projᵀ(dresid);  dfch = gelu'(fch)·dfchGelu;  dln = c_fcᵀ(dfch);  dresid += LN2ᵀ(dln)
//     datty = attn.c_projᵀ(dresid);  dqkv = attentionᵀ(datty);  dln = c_attnᵀ(dqkv);  dresid += LN1ᵀ(dln)
// where moduleᵀ(dy) = dy·Wᵀ (+ s·(dy·B)·A with dA, dB accumulated when targeted; with DoRA first
// dz = dy·m/norm and dm += Σ dy·z/norm, then the same with dy := dz — the norm is detached).
import type { Launch } from '../../gpu/context';
import { prepareAttentionBackward } from '../../kernels/attention';
import { prepareGeluBackward } from '../../kernels/gelu';
import { prepareLayernormBackward } from '../../kernels/layernorm';
import { prepareMatmul } from '../../kernels/matmul';
import { prepareSoftmaxXentBackward } from '../../kernels/softmax_xent';
import { adaptedLinearBackward } from '../adaptedLinear';
import { type Gpt2Parts, gpt2Linear } from './forward';
import type { Gpt2Module } from './weights';

/** dx = dy·Wᵀ (W stored [in, out]), plus the LoRA backward when the module is targeted. Writes dx `=`. */
function linearBackward(p: Gpt2Parts, layer: number, module: Gpt2Module, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer): Promise<Launch[]> {
  return adaptedLinearBackward(p.ctx, gpt2Linear(p, layer, module), { x, dy, dx }, { dh: p.acts.dh, dz: p.acts.dz }, false);
}

async function layerBackward(p: Gpt2Parts, l: number): Promise<Launch[]> {
  const { ctx, config: c, acts } = p;
  const { B, T } = acts;
  const a = acts.layers[l];
  const w = p.weights.layers[l];
  // The residual stream accumulates: dresid += LNᵀ(dln).
  const ln = { B, T, C: c.n_embd, eps: c.layer_norm_epsilon, accumulateDx: true };
  return [
    ...await linearBackward(p, l, 'mlp.c_proj', a.fchGelu, acts.dresid, acts.dfchGelu),
    await prepareGeluBackward(ctx, { n: B * T * c.n_inner, approximate: 'tanh' }, { x: a.fch, dy: acts.dfchGelu, dx: acts.dfch }),
    ...await linearBackward(p, l, 'mlp.c_fc', a.ln2, acts.dfch, acts.dln),
    await prepareLayernormBackward(ctx, ln, { dy: acts.dln, x: a.resMid, w: w.ln2w, mean: a.ln2Mean, rstd: a.ln2Rstd, dx: acts.dresid }),
    ...await linearBackward(p, l, 'attn.c_proj', a.atty, acts.dresid, acts.datty),
    ...await prepareAttentionBackward(ctx, { B, T, C: c.n_embd, NH: c.n_head, causal: true }, {
      dout: acts.datty, qkv: a.qkv, att: a.att, dpreatt: acts.dpreatt, dqkv: acts.dqkv,
    }),
    ...await linearBackward(p, l, 'attn.c_attn', a.ln1, acts.dqkv, acts.dln),
    await prepareLayernormBackward(ctx, ln, { dy: acts.dln, x: acts.resid[l], w: w.ln1w, mean: a.ln1Mean, rstd: a.ln1Rstd, dx: acts.dresid }),
  ];
}

/**
 * dlogits for the mean loss: its scale 1/count depends on the step's labels, so this one launch is
 * prepared per distinct count (the caller caches it). Overwrites the logits buffer.
 */
export function prepareLossBackward(p: Gpt2Parts, scale: number): Promise<Launch> {
  const { acts } = p;
  return prepareSoftmaxXentBackward(p.ctx, { BT: acts.B * acts.T, V: p.config.vocab_size, scale }, {
    probs: acts.probs, targets: acts.targets, dlogits: acts.logits,
  });
}

/** Everything after dlogits: the tied head, ln_f, then every layer in reverse. */
export async function prepareBackward(p: Gpt2Parts): Promise<Launch[]> {
  const { ctx, config: c, acts, weights } = p;
  const { B, T } = acts;
  const C = c.n_embd, L = c.n_layer;
  const launches: Launch[] = [
    // dlnf (BT, C) = dlogits (BT, V) · wte (V, C).
    await prepareMatmul(ctx, { M: B * T, N: C, K: c.vocab_size }, { a: acts.logits, b: weights.wte, c: acts.dln }),
    await prepareLayernormBackward(ctx, { B, T, C, eps: c.layer_norm_epsilon }, {
      dy: acts.dln, x: acts.resid[L], w: weights.lnfw, mean: acts.lnfMean, rstd: acts.lnfRstd, dx: acts.dresid,
    }),
  ];
  for (let l = L - 1; l >= 0; l--) launches.push(...await layerBackward(p, l));
  return launches;
}
