// The CPU-reference ViTForImageClassification forward (docs/engineering.md#cpu-reference): the same graph as forward.ts,
// built only from the src/ref kernels, in Float64. An independent path to check the GPU engine
// against (LoRA B = 0 must give the base logits) and to bisect a mismatch with the PyTorch fixture.
import type { LoadedVit } from '../../io/hfModel';
import { attentionForward } from '../../ref/attention';
import { elementwiseAdd } from '../../ref/elementwise';
import { geluForward } from '../../ref/gelu';
import { layernormForward } from '../../ref/layernorm';
import { loraForward } from '../../ref/lora';
import { matmul } from '../../ref/matmul';
import { patchForward } from '../../ref/patch';
import { stridedCopy } from '../../ref/strided_copy';
import { type VitLinearModule, linearDims } from './weights';

/** LoRA weights by module path (`vit.encoder.layer.{i}.<module>`); absent modules are plain Linears. */
export type VitReferenceLora = Map<string, { A: ArrayLike<number>; B: ArrayLike<number>; R: number; scale: number }>;

type F64 = Float64Array;

export function referenceVitLogits(
  loaded: LoadedVit, pixels: ArrayLike<number>, B: number, lora: VitReferenceLora = new Map(),
  head?: { weight: ArrayLike<number>; bias: ArrayLike<number> },
): Float64Array {
  const c = loaded.config;
  const C = c.hidden_size, P = c.num_patches, T = P + 1, N = B * T, NH = c.num_attention_heads;
  const t = (name: string): F64 => {
    const x = loaded.tensors.get(name);
    if (!x) throw new Error(`reference ViT: missing ${name}`);
    return Float64Array.from(x.data);
  };
  const linear = (l: number, m: VitLinearModule, x: F64): F64 => {
    const { IN, OUT } = linearDims(c, m);
    const p = `encoder.layer.${l}.${m}`;
    const w = t(`${p}.weight`), bias = loaded.tensors.has(`${p}.bias`) ? t(`${p}.bias`) : null;
    const y = new Float64Array(N * OUT);
    const ad = lora.get(`vit.${p}`);
    if (!ad) matmul(y, x, w, bias, { M: N, N: OUT, K: IN, transB: true });
    else loraForward(y, new Float64Array(N * ad.R), x, w, bias, Float64Array.from(ad.A), Float64Array.from(ad.B), { N, IN, OUT, R: ad.R, scale: ad.scale, conv1d: false });
    return y;
  };
  const ln = (x: F64, name: string): F64 => {
    const y = new Float64Array(N * C);
    layernormForward(y, new Float64Array(N), new Float64Array(N), x, t(`${name}.weight`), t(`${name}.bias`), { B, T, C, eps: c.layer_norm_eps });
    return y;
  };
  const add = (a: F64, b: F64): F64 => {
    const out = new Float64Array(a.length);
    elementwiseAdd(out, a, b, { n: a.length });
    return out;
  };
  // Embeddings: [CLS; patches·Wᵀ + b] + pos.
  const [p] = c.patch_size, [H, W] = c.image_size;
  const patchOut = new Float64Array(B * P * C);
  patchForward(patchOut, Float64Array.from(pixels), t('embeddings.patch_embeddings.projection.weight'),
    t('embeddings.patch_embeddings.projection.bias'), { B, Cin: c.num_channels, H, W, p, C });
  let x: F64 = new Float64Array(N * C);
  stridedCopy(x, patchOut, { batch: B, rows: P, cols: C, srcRowStride: C, srcBatchStride: P * C, dstOffset: C, dstRowStride: C, dstBatchStride: T * C });
  stridedCopy(x, t('embeddings.cls_token'), { batch: B, rows: 1, cols: C, srcRowStride: C, dstRowStride: C, dstBatchStride: T * C });
  stridedCopy(x, t('embeddings.position_embeddings'), { batch: B, rows: T, cols: C, srcRowStride: C, dstRowStride: C, dstBatchStride: T * C, accumulate: true });
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const h = ln(x, `encoder.layer.${l}.layernorm_before`);
    const qkv = new Float64Array(N * 3 * C);
    (['query', 'key', 'value'] as const).forEach((m, j) => {
      stridedCopy(qkv, linear(l, `attention.attention.${m}`, h), { batch: 1, rows: N, cols: C, srcRowStride: C, dstOffset: j * C, dstRowStride: 3 * C });
    });
    const y = new Float64Array(N * C);
    attentionForward(y, new Float64Array(B * NH * T * T), qkv, { B, T, C, NH, causal: false });
    const mid = add(x, linear(l, 'attention.output.dense', y));
    const f = linear(l, 'intermediate.dense', ln(mid, `encoder.layer.${l}.layernorm_after`));
    const g = new Float64Array(f.length);
    geluForward(g, f, { n: f.length, approximate: 'none' });
    x = add(mid, linear(l, 'output.dense', g));
  }
  const cls = new Float64Array(B * C);
  stridedCopy(cls, ln(x, 'layernorm'), { batch: B, rows: 1, cols: C, srcRowStride: C, srcBatchStride: T * C, dstRowStride: C, dstBatchStride: C });
  const hw = head ? Float64Array.from(head.weight) : t('classifier.weight');
  const hb = head ? Float64Array.from(head.bias) : t('classifier.bias');
  const NL = hb.length;
  const logits = new Float64Array(B * NL);
  matmul(logits, cls, hw, hb, { M: B, N: NL, K: C, transB: true });
  return logits;
}
