// The Llama-family forward and backward as prepared launches: the stem and head around the shared block
// stack (../block.ts, spec ../families/llama.ts):
//   resid[0] = embed_tokens[ids] (no position embedding: positions enter through RoPE in every block)
//   resid[L] = blocks(resid[0]);  lnf = rms_f(resid[L]);  logits = lnf · Wᵀ (W = lm_head, or embed_tokens when tied)
//   loss = mean softmax-xent over targets ≠ −100
// Backward: dlogits = (probs − onehot) / count (overwrites logits); dlnf = dlogits · W; dresid = rms_fᵀ(dlnf);
// then every block in reverse, accumulating the adapters' gradients in the arena.
import type { Launch } from '../../gpu/context';
import { prepareEmbeddingForward } from '../../kernels/embedding';
import { prepareMatmul } from '../../kernels/matmul';
import { prepareRmsnormBackward, prepareRmsnormForward } from '../../kernels/rmsnorm';
import { prepareSoftmaxXentBackward, prepareSoftmaxXentForward, prepareSoftmaxXentMean } from '../../kernels/softmax_xent';
import type { LoraSlot } from '../adaptedLinear';
import { type StackPass, prepareStackBackward, prepareStackForward } from '../block';
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
    // logits (rows, V) = lnf (rows, C) · Wᵀ, W stored (V, C) = (N, K): transB.
    await prepareMatmul(ctx, { M: rows, N: p.V, K: spec.C, transB: true }, { a: acts.lnf, b: weights.head, c: acts.logits }),
  ];
}

/** Embeddings → every block → the head. Reads ids; writes every cached activation. */
export async function prepareForward(p: LlamaParts): Promise<Launch[]> {
  const { ctx, acts, weights, spec } = p;
  const { B, T } = acts;
  return [
    // The position rows are zeros: out = embed_tokens[ids] exactly.
    await prepareEmbeddingForward(ctx, { B, T, C: spec.C, V: p.V, maxT: weights.noPositions.size / 4 / spec.C },
      { ids: acts.ids, wte: weights.embed, wpe: weights.noPositions, out: acts.resid[0] }),
    ...await prepareStackForward(p),
    ...await prepareHead(p, B * T),
  ];
}

/** probs, per-position losses, then loss = [mean over targets ≠ −100, count]. */
export async function prepareLoss(p: LlamaParts): Promise<Launch[]> {
  const { ctx, acts } = p;
  const s = { BT: acts.B * acts.T, V: p.V };
  return [
    await prepareSoftmaxXentForward(ctx, s, { logits: acts.logits, targets: acts.targets, probs: acts.probs, losses: acts.losses }),
    await prepareSoftmaxXentMean(ctx, s, { losses: acts.losses, targets: acts.targets, loss: acts.loss }),
  ];
}

/** dlogits for the mean loss at scale 1/count (prepared per distinct count); overwrites logits. */
export function prepareLossBackward(p: LlamaParts, scale: number): Promise<Launch> {
  const { acts } = p;
  return prepareSoftmaxXentBackward(p.ctx, { BT: acts.B * acts.T, V: p.V, scale }, { probs: acts.probs, targets: acts.targets, dlogits: acts.logits });
}

/** Everything after dlogits: the head, the final norm, then every block in reverse. */
export async function prepareBackward(p: LlamaParts): Promise<Launch[]> {
  const { ctx, acts, weights, spec } = p;
  const N = acts.B * acts.T;
  return [
    // dlnf (N, C) = dlogits (N, V) · W (V, C).
    await prepareMatmul(ctx, { M: N, N: spec.C, K: p.V }, { a: acts.logits, b: weights.head, c: acts.dln }),
    await prepareRmsnormBackward(ctx, { rows: N, C: spec.C, eps: spec.eps }, {
      dy: acts.dln, x: acts.resid[spec.L], w: weights.norm, rstd: acts.lnfRstd, dx: acts.dresid,
    }),
    ...await prepareStackBackward(p),
  ];
}
