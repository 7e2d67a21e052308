// The ViTForImageClassification forward as launches, prepared once per batch size (plan.ts):
// im2col + patch projection → [CLS; patches] + position embeddings → L pre-LN encoder layers →
// final layernorm → CLS rows → classifier → softmax cross-entropy (mean over the batch).
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareLayernormForward } from '../../kernels/layernorm';
import { prepareMatmul } from '../../kernels/matmul';
import { preparePatchForward } from '../../kernels/patch';
import { prepareSoftmaxXentForward, prepareSoftmaxXentMean } from '../../kernels/softmax_xent';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import { type StackPass, prepareStackForward } from '../block';
import type { VitActs } from './plan';
import type { VitTrainables } from './trainable';
import type { VitWeights } from './weights';

/** One pass: the block-stack pass plus ViT's stem and head weights and the classifier in the arena. */
export interface VitPass extends StackPass {
  acts: VitActs;
  weights: VitWeights;
  t: VitTrainables;
}

/** resid[0] = [CLS; patches·Wᵀ + b] + pos, per image (T = P + 1 rows). */
async function prepareEmbeddings(ctx: GpuContext, a: VitActs, w: VitWeights): Promise<Launch[]> {
  const { B, P, T, C, Cin, H, W, p } = a.dims;
  const x0 = a.resid[0];
  return [
    ...await preparePatchForward(ctx, { B, Cin, H, W, p, C },
      { images: a.images, weight: w.patchW, bias: w.patchB, patches: a.patches, out: a.patchOut }),
    // patch rows (B, P, C) land below each image's CLS row: (B, T, C) from row 1.
    await prepareStridedCopy(ctx, { batch: B, rows: P, cols: C, srcRowStride: C, srcBatchStride: P * C,
      dstOffset: C, dstRowStride: C, dstBatchStride: T * C }, { src: a.patchOut, dst: x0 }),
    // the CLS token (batch stride 0: one vector for every image) into row 0.
    await prepareStridedCopy(ctx, { batch: B, rows: 1, cols: C, srcRowStride: C, dstRowStride: C, dstBatchStride: T * C },
      { src: w.cls, dst: x0 }),
    // + position embeddings (T, C), broadcast over the batch.
    await prepareStridedCopy(ctx, { batch: B, rows: T, cols: C, srcRowStride: C, dstRowStride: C, dstBatchStride: T * C,
      accumulate: true }, { src: w.pos, dst: x0 }),
  ];
}

/** Everything up to the logits (B, NL); with `drop` (training passes) the LoRA inputs are dropped. */
export async function prepareVitForward(p: VitPass): Promise<Launch[]> {
  const { ctx, acts: a, weights: w, t } = p;
  const { B, T, C, L, NL, eps } = a.dims;
  const out = await prepareEmbeddings(ctx, a, w);
  out.push(...await prepareStackForward(p));
  out.push(await prepareLayernormForward(ctx, { B, T, C, eps }, { x: a.resid[L], w: w.lnfW, b: w.lnfB, y: a.lnf, mean: a.meanf, rstd: a.rstdf }));
  // CLS rows (row 0 of each image) gathered into (B, C): the only rows the classifier reads.
  out.push(await prepareStridedCopy(ctx, { batch: B, rows: 1, cols: C, srcRowStride: C, srcBatchStride: T * C,
    dstRowStride: C, dstBatchStride: C }, { src: a.lnf, dst: a.cls }));
  // logits (B, NL) = cls · Wᵀ + b, W (NL, C) nn.Linear layout.
  out.push(await prepareMatmul(ctx, { M: B, N: NL, K: C, transB: true },
    { a: a.cls, b: t.arena.binding('params', t.classifierW), bias: t.arena.binding('params', t.classifierB), c: a.logits }));
  return out;
}

/** probs, per-image losses and loss = [mean, count] from the logits and the i32 labels. */
export async function prepareVitLoss(ctx: GpuContext, a: VitActs): Promise<Launch[]> {
  const s = { BT: a.dims.B, V: a.dims.NL };
  return [
    await prepareSoftmaxXentForward(ctx, s, { logits: a.logits, targets: a.labels, probs: a.probs, losses: a.losses }),
    await prepareSoftmaxXentMean(ctx, s, { losses: a.losses, targets: a.labels, loss: a.loss }),
  ];
}
