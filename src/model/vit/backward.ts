// The backward of forward.ts, from the mean cross-entropy to the LoRA A/B grads and the classifier
// grads. The backbone is frozen: no base-weight, layernorm or embedding gradient is formed, and the
// backward stops at the first layer's input. LoRA grads accumulate (`+=`): the step clears them first.
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareAttentionBackward } from '../../kernels/attention';
import { prepareGeluBackward } from '../../kernels/gelu';
import { prepareLayernormBackward } from '../../kernels/layernorm';
import { prepareMatmul } from '../../kernels/matmul';
import { prepareReduceSumRows } from '../../kernels/reduce';
import { prepareSoftmaxXentBackward } from '../../kernels/softmax_xent';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import type { DropoutStreams } from '../lora_dropout';
import { adaptedLinearBackward } from '../adaptedLinear';
import { QKV, vitLinear } from './forward';
import type { VitActs } from './plan';
import type { VitTrainables } from './trainable';
import type { VitLinearModule, VitWeights } from './weights';

/**
 * dlogits = (probs − onehot)/B; classifier dW = dlogitsᵀ·cls, db = Σ_rows dlogits (both `=`);
 * dcls = dlogits·W scattered into the CLS rows of dlnf (the other rows stay 0); then the final
 * layernorm's backward writes dres = dL/dxs[L].
 */
async function prepareHeadBackward(ctx: GpuContext, a: VitActs, w: VitWeights, t: VitTrainables): Promise<Launch[]> {
  const { B, T, C, NL, eps } = a.dims;
  return [
    // Every label is a class in [0, NL) (checked by the model), so the mean's scale is 1/B.
    await prepareSoftmaxXentBackward(ctx, { BT: B, V: NL, scale: 1 / B }, { probs: a.probs, targets: a.labels, dlogits: a.dlogits }),
    // dW (NL, C) = dlogitsᵀ (NL, B) · cls (B, C); dlogits is stored (B, NL) = (K, M), hence transA.
    await prepareMatmul(ctx, { M: NL, N: C, K: B, transA: true }, { a: a.dlogits, b: a.cls, c: t.arena.binding('grads', t.classifierW) }),
    await prepareReduceSumRows(ctx, { rows: B, cols: NL }, { x: a.dlogits, out: t.arena.binding('grads', t.classifierB) }),
    // dcls (B, C) = dlogits (B, NL) · W (NL, C).
    await prepareMatmul(ctx, { M: B, N: C, K: NL }, { a: a.dlogits, b: t.arena.binding('params', t.classifierW), c: a.dcls }),
    await prepareStridedCopy(ctx, { batch: B, rows: 1, cols: C, srcRowStride: C, srcBatchStride: C,
      dstRowStride: C, dstBatchStride: T * C }, { src: a.dcls, dst: a.dlnf }),
    await prepareLayernormBackward(ctx, { B, T, C, eps }, {
      dy: a.dlnf, x: a.xs[a.dims.L], w: w.lnfW, mean: a.meanf, rstd: a.rstdf, dx: a.dres,
    }),
  ];
}

/** Layer l backward: on entry dres = dL/dxs[l+1], on exit dres = dL/dxs[l]. */
async function prepareLayerBackward(
  ctx: GpuContext, a: VitActs, w: VitWeights, t: VitTrainables, l: number, drop?: DropoutStreams,
): Promise<Launch[]> {
  const { B, T, N, C, NH, I, eps } = a.dims;
  const la = a.layers[l], lw = w.layers[l];
  const lin = (m: VitLinearModule, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, acc: boolean) =>
    adaptedLinearBackward(ctx, vitLinear(a, w, t, l, m, drop), { x, dy, dx }, { dh: a.dh, dz: a.dz }, acc);
  const ln = { B, T, C, eps, accumulateDx: true }; // residual: dres += LN backward
  const out: Launch[] = [
    // MLP branch: xs[l+1] = xmid + fc2(gelu(fc1(LN_after(xmid)))).
    ...await lin('output.dense', la.g, a.dres, a.dI1, false),
    await prepareGeluBackward(ctx, { n: N * I, approximate: 'none' }, { x: la.f, dy: a.dI1, dx: a.dI2 }),
    ...await lin('intermediate.dense', la.h2, a.dI2, a.dC, false),
    await prepareLayernormBackward(ctx, ln, { dy: a.dC, x: la.xmid, w: lw.ln2w, mean: la.mean2, rstd: la.rstd2, dx: a.dres }),
    // Attention branch: xmid = xs[l] + dense(attn(q, k, v)).
    ...await lin('attention.output.dense', la.y, a.dres, a.dy, false),
    ...await prepareAttentionBackward(ctx, { B, T, C, NH, causal: false },
      { dout: a.dy, qkv: la.qkv, att: la.att, dpreatt: a.dpreatt, dqkv: a.dqkv }),
  ];
  for (const [j, [part]] of QKV.entries()) {
    out.push(await prepareStridedCopy(ctx, { batch: 1, rows: N, cols: C, srcOffset: j * C, srcRowStride: 3 * C, dstRowStride: C },
      { src: a.dqkv, dst: a.dqkvSplit[part] }));
  }
  // dh1 = Σ over q, k, v of that Linear's dx: the first writes, the others add.
  for (const [j, [part, m]] of QKV.entries()) out.push(...await lin(m, la.h1, a.dqkvSplit[part], a.dC, j > 0));
  // Layer 0's input gradient would only feed the (frozen) embeddings: stop there.
  if (l > 0) out.push(await prepareLayernormBackward(ctx, ln, { dy: a.dC, x: a.xs[l], w: lw.ln1w, mean: la.mean1, rstd: la.rstd1, dx: a.dres }));
  return out;
}

export async function prepareVitBackward(ctx: GpuContext, a: VitActs, w: VitWeights, t: VitTrainables, drop?: DropoutStreams): Promise<Launch[]> {
  const out = await prepareHeadBackward(ctx, a, w, t);
  for (let l = a.dims.L - 1; l >= 0; l--) out.push(...await prepareLayerBackward(ctx, a, w, t, l, drop));
  return out;
}
