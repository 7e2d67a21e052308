// The backward of forward.ts, from the mean cross-entropy to the LoRA A/B grads and the classifier
// grads. The backbone is frozen: no base-weight, layernorm or embedding gradient is formed, and the
// backward stops at the first layer's input. LoRA grads accumulate (`+=`): the step clears them first.
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareLayernormBackward } from '../../kernels/layernorm';
import { prepareMatmul } from '../../kernels/matmul';
import { prepareReduceSumRows } from '../../kernels/reduce';
import { prepareSoftmaxXentBackward } from '../../kernels/softmax_xent';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import { prepareStackBackward } from '../block';
import type { VitPass } from './forward';
import type { VitActs } from './plan';
import type { VitTrainables } from './trainable';
import type { VitWeights } from './weights';

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
      dy: a.dlnf, x: a.resid[a.dims.L], w: w.lnfW, mean: a.meanf, rstd: a.rstdf, dx: a.dresid,
    }),
  ];
}

export async function prepareVitBackward(p: VitPass): Promise<Launch[]> {
  return [...await prepareHeadBackward(p.ctx, p.acts, p.weights, p.t), ...await prepareStackBackward(p)];
}
