// The GPT-2 forward pass as prepared launches (encoded again every step, never re-prepared): GPT-2's
// stem and head around the shared block stack (../block.ts, spec ../families/gpt2.ts):
//   resid[0] = wte[ids] + wpe;  resid[L] = blocks(resid[0]);
//   lnf = LN_f(resid[L]);  logits = lnf · wteᵀ (tied head);  loss = mean softmax-xent over targets ≠ −100.
import type { Launch } from '../../gpu/context';
import type { Gpt2Config } from '../../io/hfModel/config';
import { prepareEmbeddingForwardChunks } from '../../kernels/embedding';
import { prepareLayernormForward } from '../../kernels/layernorm';
import { prepareLmHeadForward } from '../../kernels/lm_head';
import { prepareSoftmaxXentForwardChunks, prepareSoftmaxXentMean } from '../../kernels/softmax_xent';
import type { LoraSlot } from '../adaptedLinear';
import { type StackActs, type StackPass, prepareStackForward } from '../block';
import type { Gpt2Acts } from './plan';
import type { Gpt2Weights } from './weights';

/** Everything a pass needs: the block-stack pass (spec, blocks, arena, slots, dropout) and GPT-2's stem and head. */
export interface Gpt2Parts extends StackPass {
  config: Gpt2Config;
  weights: Gpt2Weights;
  slots: LoraSlot[]; // model order
  acts: Gpt2Acts;
}

/** What the trunk reads and writes: the stem's ids and the block stack (a full plan, or generation's prefill plan without a head). */
export type Gpt2TrunkPass = StackPass & Pick<Gpt2Parts, 'config' | 'weights'> & { acts: StackActs & { ids: GPUBuffer } };

/** Embeddings → every block: ids → resid[L]. */
export async function prepareTrunk(p: Gpt2TrunkPass): Promise<Launch[]> {
  const { ctx, config: c, acts, weights } = p;
  const { B, T } = acts;
  return [
    ...await prepareEmbeddingForwardChunks(ctx, { B, T, C: c.n_embd, V: c.vocab_size, maxT: c.n_positions }, weights.vocab, { ids: acts.ids, wte: weights.wteChunks, wpe: weights.wpe, out: acts.resid[0] }),
    ...await prepareStackForward(p),
  ];
}

/** ln_f and the head of all B·T rows of resid[L]: lnf, then logits (B·T, V). */
export async function prepareHead(p: Gpt2Parts): Promise<Launch[]> {
  const { ctx, config: c, acts, weights } = p;
  const { B, T } = acts;
  const C = c.n_embd;
  return [
    await prepareLayernormForward(ctx, { B, T, C, eps: c.layer_norm_epsilon }, {
      x: acts.resid[c.n_layer], w: weights.lnfw, b: weights.lnfb, y: acts.lnf, mean: acts.lnfMean, rstd: acts.lnfRstd,
    }),
    // logits (BT, V) = lnf (BT, C) · wteᵀ, chunk by chunk of the vocabulary.
    ...await prepareLmHeadForward(ctx, { BT: B * T, C }, weights.vocab, { h: acts.lnf, W: weights.wteChunks, logits: acts.logitsChunks }),
  ];
}

/** Embeddings → every block → ln_f → logits (B, T, V). Reads ids; writes every cached activation. */
export async function prepareForward(p: Gpt2Parts): Promise<Launch[]> {
  return [...await prepareTrunk(p), ...await prepareHead(p)];
}

/** probs, per-position losses, then loss = [mean over targets ≠ −100, count] (one workgroup, fixed order). */
export async function prepareLoss(p: Gpt2Parts): Promise<Launch[]> {
  const { ctx, acts } = p;
  const s = { BT: acts.B * acts.T, V: p.config.vocab_size };
  return [
    ...await prepareSoftmaxXentForwardChunks(ctx, s, acts.vocab, {
      logits: acts.logitsChunks, targets: acts.targets, probs: acts.probsChunks, stats: acts.xentStats, losses: acts.losses,
    }),
    await prepareSoftmaxXentMean(ctx, s, { losses: acts.losses, targets: acts.targets, loss: acts.loss }),
  ];
}
