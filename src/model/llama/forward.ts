// The Llama-family forward and backward as prepared launches: the stem and head around the shared block
// stack (../block.ts, spec ../families/llama.ts):
//   resid[0] = embed_tokens[ids] (no position embedding: positions enter through RoPE in every block)
//   resid[L] = blocks(resid[0]);  lnf = rms_f(resid[L]);  logits = lnf · Wᵀ (W = lm_head, or embed_tokens when tied)
//   loss = mean softmax-xent over targets ≠ −100
// Backward: dlogits = (probs − onehot) / count (overwrites logits); dlnf = dlogits · W; dresid = rms_fᵀ(dlnf);
// then every block in reverse, accumulating the adapters' gradients in the arena.
import type { Launch } from '../../gpu/context';
import { prepareEmbeddingForwardChunks } from '../../kernels/embedding';
import { prepareLmHeadBackward, prepareLmHeadForward } from '../../kernels/lm_head';
import { prepareRmsnormBackward, prepareRmsnormForward } from '../../kernels/rmsnorm';
import { prepareSoftmaxXentBackwardChunks, prepareSoftmaxXentForwardChunks, prepareSoftmaxXentMean } from '../../kernels/softmax_xent';
import type { LoraSlot } from '../adaptedLinear';
import { type StackActs, type StackPass, prepareStackBackward, prepareStackForward } from '../block';
import type { LlamaActs } from './plan';
import type { LlamaWeights } from './weights';

export interface LlamaParts extends StackPass {
  V: number;
  weights: LlamaWeights;
  slots: LoraSlot[]; // model order
  acts: LlamaActs;
}

/** The final RMSNorm and the head of rows `rows` of resid[L]: lnf, then logits (rows, V). */
export async function prepareHead(p: LlamaParts, rows: number): Promise<Launch[]> {
  const { ctx, acts, weights, spec } = p;
  return [
    await prepareRmsnormForward(ctx, { rows, C: spec.C, eps: spec.eps }, { x: acts.resid[spec.L], w: weights.norm, y: acts.lnf, rstd: acts.lnfRstd }),
    // logits (rows, V) = lnf (rows, C) · Wᵀ, chunk by chunk of the vocabulary.
    ...await prepareLmHeadForward(ctx, { BT: rows, C: spec.C }, weights.vocab, { h: acts.lnf, W: weights.headChunks, logits: acts.logitsChunks }, weights.headFormat),
  ];
}

/** What the trunk reads and writes: the stem's ids and the block stack (a full plan, or generation's prefill plan without a head). */
export type LlamaTrunkPass = StackPass & Pick<LlamaParts, 'V' | 'weights'> & { acts: StackActs & { ids: GPUBuffer } };

/** Embeddings → every block: ids → resid[L]. */
export async function prepareTrunk(p: LlamaTrunkPass): Promise<Launch[]> {
  const { ctx, acts, weights, spec } = p;
  const { B, T } = acts;
  return [
    // The position rows are zeros: out = embed_tokens[ids] exactly.
    ...await prepareEmbeddingForwardChunks(ctx, { B, T, C: spec.C, V: p.V, maxT: weights.noPositions.size / 4 / spec.C }, weights.vocab,
      { ids: acts.ids, wte: weights.embedChunks, wpe: weights.noPositions, out: acts.resid[0] }, weights.embedFormat),
    ...await prepareStackForward(p),
  ];
}

/** Embeddings → every block → the head. Reads ids; writes every cached activation. */
export async function prepareForward(p: LlamaParts): Promise<Launch[]> {
  return [...await prepareTrunk(p), ...await prepareHead(p, p.acts.B * p.acts.T)];
}

/** probs, per-position losses, then loss = [mean over targets ≠ −100, count]. */
export async function prepareLoss(p: LlamaParts): Promise<Launch[]> {
  const { ctx, acts } = p;
  const s = { BT: acts.B * acts.T, V: p.V };
  return [
    ...await prepareSoftmaxXentForwardChunks(ctx, s, acts.vocab, {
      logits: acts.logitsChunks, targets: acts.targets, probs: acts.probsChunks, stats: acts.xentStats, losses: acts.losses,
    }),
    await prepareSoftmaxXentMean(ctx, s, { losses: acts.losses, targets: acts.targets, loss: acts.loss }),
  ];
}

/** dlogits for the mean loss at scale 1/count, one launch per vocabulary chunk (prepared per distinct count); overwrites logits. */
export function prepareLossBackward(p: LlamaParts, scale: number): Promise<Launch[]> {
  const { acts } = p;
  return prepareSoftmaxXentBackwardChunks(p.ctx, { BT: acts.B * acts.T, V: p.V, scale }, acts.vocab,
    { probs: acts.probsChunks, targets: acts.targets, dlogits: acts.logitsChunks });
}

/** Everything after dlogits: the head, the final norm, then every block in reverse. */
export async function prepareBackward(p: LlamaParts): Promise<Launch[]> {
  const { ctx, acts, weights, spec } = p;
  const N = acts.B * acts.T;
  return [
    // dlnf (N, C) = dlogits (N, V) · W (V, C), summed over the vocabulary chunks.
    ...await prepareLmHeadBackward(ctx, { BT: N, C: spec.C }, weights.vocab, { dlogits: acts.logitsChunks, W: weights.headChunks, dh: acts.dln }, weights.headFormat),
    await prepareRmsnormBackward(ctx, { rows: N, C: spec.C, eps: spec.eps }, {
      dy: acts.dln, x: acts.resid[spec.L], w: weights.norm, rstd: acts.lnfRstd, dx: acts.dresid,
    }),
    ...await prepareStackBackward(p),
  ];
}
