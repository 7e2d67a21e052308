// The GPT-2 backward pass as prepared launches, the reverse of forward.ts. Only LoRA A and B get
// gradients (accumulated `+=` into the flat grads buffer: zero it before a fresh step); base weights,
// LayerNorms and embeddings are frozen, so their parameter gradients are never computed.
//   dlogits = (probs − onehot(target)) / count   (overwrites the logits buffer)
//   dlnf = dlogits · wte;  dresid = LN_fᵀ(dlnf)
//   then every block in reverse (../block.ts), which accumulates dA, dB (and DoRA's dm) in the arena.
import type { Launch } from '../../gpu/context';
import { prepareLayernormBackward } from '../../kernels/layernorm';
import { prepareLmHeadBackward } from '../../kernels/lm_head';
import { prepareSoftmaxXentBackwardChunks } from '../../kernels/softmax_xent';
import { prepareStackBackward } from '../block';
import type { Gpt2Parts } from './forward';

/**
 * dlogits for the mean loss (one launch per vocabulary chunk): its scale 1/count depends on the step's
 * labels, so these launches are prepared per distinct count (the caller caches it). Overwrites the logits buffer.
 */
export function prepareLossBackward(p: Gpt2Parts, scale: number): Promise<Launch[]> {
  const { acts } = p;
  return prepareSoftmaxXentBackwardChunks(p.ctx, { BT: acts.B * acts.T, V: p.config.vocab_size, scale }, acts.vocab, {
    probs: acts.probsChunks, targets: acts.targets, dlogits: acts.logitsChunks,
  });
}

/** Everything after dlogits: the tied head, ln_f, then every layer in reverse. */
export async function prepareBackward(p: Gpt2Parts): Promise<Launch[]> {
  const { ctx, config: c, acts, weights } = p;
  const { B, T } = acts;
  const C = c.n_embd;
  const launches: Launch[] = [
    // dlnf (BT, C) = dlogits (BT, V) · wte (V, C), summed over the vocabulary chunks.
    ...await prepareLmHeadBackward(ctx, { BT: B * T, C }, weights.vocab, { dlogits: acts.logitsChunks, W: weights.wteChunks, dh: acts.dln }),
    await prepareLayernormBackward(ctx, { B, T, C, eps: c.layer_norm_epsilon }, {
      dy: acts.dln, x: acts.resid[c.n_layer], w: weights.lnfw, mean: acts.lnfMean, rstd: acts.lnfRstd, dx: acts.dresid,
    }),
  ];
  launches.push(...await prepareStackBackward(p));
  return launches;
}
