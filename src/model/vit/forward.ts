// The ViTForImageClassification forward as launches, prepared once per batch size (plan.ts):
// im2col + patch projection → [CLS; patches] + position embeddings → L pre-LN encoder layers →
// final layernorm → CLS rows → classifier → softmax cross-entropy (mean over the batch).
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareAttentionForward } from '../../kernels/attention';
import { prepareElementwiseAdd } from '../../kernels/elementwise';
import { prepareGeluForward } from '../../kernels/gelu';
import { prepareLayernormForward } from '../../kernels/layernorm';
import { prepareMatmul } from '../../kernels/matmul';
import { preparePatchForward } from '../../kernels/patch';
import { prepareSoftmaxXentForward, prepareSoftmaxXentMean } from '../../kernels/softmax_xent';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import { type AdaptedLinear, adaptedLinearForward } from '../adaptedLinear';
import type { DropoutStreams } from '../lora_dropout';
import type { VitActs } from './plan';
import { type VitTrainables, vitModuleName } from './trainable';
import type { VitLinearModule, VitWeights } from './weights';

export const QKV = [
  ['q', 'attention.attention.query'],
  ['k', 'attention.attention.key'],
  ['v', 'attention.attention.value'],
] as const satisfies readonly (readonly ['q' | 'k' | 'v', VitLinearModule])[];

/** Linear m of layer l in one pass; with `drop` (training passes) its LoRA input is dropped. */
export function vitLinear(a: VitActs, w: VitWeights, t: VitTrainables, l: number, m: VitLinearModule, drop?: DropoutStreams): AdaptedLinear {
  const lin = w.layers[l].linear[m], N = a.dims.N;
  const slot = t.byPath.get(vitModuleName(l, m));
  if (!slot) return { N, lin };
  const la = a.layers[l], h = la.loraH[m];
  if (!h) throw new Error(`ViT plan has no LoRA hidden buffer for ${slot.path}`);
  return { N, lin, lora: { slot, arena: t.arena, acts: { h, z: la.doraZ[m], norm: la.doraNorm[m] }, drop: drop?.slot(slot.index) } };
}

/** xs[0] = [CLS; patches·Wᵀ + b] + pos, per image (T = P + 1 rows). */
async function prepareEmbeddings(ctx: GpuContext, a: VitActs, w: VitWeights): Promise<Launch[]> {
  const { B, P, T, C, Cin, H, W, p } = a.dims;
  const x0 = a.xs[0];
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

/** One encoder layer: x + attn(LN_before(x)), then + MLP(LN_after(·)); ViTLayer order. */
async function prepareLayer(ctx: GpuContext, a: VitActs, w: VitWeights, t: VitTrainables, l: number, drop?: DropoutStreams): Promise<Launch[]> {
  const { B, T, N, C, NH, I, eps } = a.dims;
  const la = a.layers[l], lw = w.layers[l];
  const lin = (m: VitLinearModule, x: GPUBuffer, y: GPUBuffer) => adaptedLinearForward(ctx, vitLinear(a, w, t, l, m, drop), x, y);
  const out: Launch[] = [
    await prepareLayernormForward(ctx, { B, T, C, eps }, { x: a.xs[l], w: lw.ln1w, b: lw.ln1b, y: la.h1, mean: la.mean1, rstd: la.rstd1 }),
  ];
  // Separate query/key/value Linears, then packed into (N, 3C) Q | K | V column blocks for attention.
  for (const [j, [part, m]] of QKV.entries()) {
    out.push(...await lin(m, la.h1, la.qkvOut[part]));
    out.push(await prepareStridedCopy(ctx, { batch: 1, rows: N, cols: C, srcRowStride: C, dstOffset: j * C, dstRowStride: 3 * C },
      { src: la.qkvOut[part], dst: la.qkv }));
  }
  out.push(...await prepareAttentionForward(ctx, { B, T, C, NH, causal: false }, { qkv: la.qkv, att: la.att, out: la.y }));
  out.push(...await lin('attention.output.dense', la.y, a.tmp));
  out.push(await prepareElementwiseAdd(ctx, { n: N * C }, { a: a.xs[l], b: a.tmp, out: la.xmid }));
  out.push(await prepareLayernormForward(ctx, { B, T, C, eps }, { x: la.xmid, w: lw.ln2w, b: lw.ln2b, y: la.h2, mean: la.mean2, rstd: la.rstd2 }));
  out.push(...await lin('intermediate.dense', la.h2, la.f));
  out.push(await prepareGeluForward(ctx, { n: N * I, approximate: 'none' }, { x: la.f, out: la.g }));
  out.push(...await lin('output.dense', la.g, a.tmp));
  out.push(await prepareElementwiseAdd(ctx, { n: N * C }, { a: la.xmid, b: a.tmp, out: a.xs[l + 1] }));
  return out;
}

/** Everything up to the logits (B, NL); with `drop` (training passes) the LoRA inputs are dropped. */
export async function prepareVitForward(ctx: GpuContext, a: VitActs, w: VitWeights, t: VitTrainables, drop?: DropoutStreams): Promise<Launch[]> {
  const { B, T, C, L, NL, eps } = a.dims;
  const out = await prepareEmbeddings(ctx, a, w);
  for (let l = 0; l < L; l++) out.push(...await prepareLayer(ctx, a, w, t, l, drop));
  out.push(await prepareLayernormForward(ctx, { B, T, C, eps }, { x: a.xs[L], w: w.lnfW, b: w.lnfB, y: a.lnf, mean: a.meanf, rstd: a.rstdf }));
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
