// Image classification output: logits (B, NL) → softmax probabilities → the k most likely classes
// per image, named by the config's id2label (as HF's image-classification pipeline reports them).
import type { Arr } from '../../ref/types';
import type { VitLoraModel } from './model';

export interface ClassPrediction {
  id: number;
  label: string; // id2label[id]
  prob: number; // softmax probability, Float64
  logit: number;
}

/** Row-wise softmax of (B, NL) logits in Float64, max subtracted first (no overflow). */
export function softmaxRows(logits: Arr, NL: number): Float64Array {
  if (!Number.isInteger(NL) || NL < 1 || logits.length % NL !== 0) {
    throw new Error(`classify: ${logits.length} logits is not a whole number of rows of ${NL} classes`);
  }
  const p = new Float64Array(logits.length);
  for (let r = 0; r < logits.length; r += NL) {
    let max = -Infinity;
    for (let i = 0; i < NL; i++) max = Math.max(max, logits[r + i]);
    if (!Number.isFinite(max)) throw new Error(`classify: row ${r / NL} has no finite maximum (${max})`);
    let sum = 0;
    for (let i = 0; i < NL; i++) sum += (p[r + i] = Math.exp(logits[r + i] - max));
    for (let i = 0; i < NL; i++) p[r + i] /= sum;
  }
  return p;
}

/** Per row, the k most probable classes, most probable first (ties by lower id, as torch.topk on CPU). */
export function topKPredictions(logits: Arr, id2label: readonly string[], k = 5): ClassPrediction[][] {
  const NL = id2label.length;
  if (!Number.isInteger(k) || k < 1) throw new Error(`classify: k=${k} must be a positive integer`);
  const p = softmaxRows(logits, NL);
  const rows: ClassPrediction[][] = [];
  for (let r = 0; r < logits.length; r += NL) {
    const ids = Array.from({ length: NL }, (_, i) => i).sort((a, b) => (logits[r + b] - logits[r + a]) || (a - b));
    rows.push(ids.slice(0, Math.min(k, NL)).map((id) => ({ id, label: id2label[id], prob: p[r + id], logit: logits[r + id] })));
  }
  return rows;
}

/** Runs the (adapted) model on a batch of images (B, 3, H, W) and returns each image's top-k classes. */
export async function classifyImages(model: VitLoraModel, pixels: Float32Array, k = 5): Promise<ClassPrediction[][]> {
  const id2label = model.loaded.config.id2label;
  if (id2label.length !== model.numLabels) {
    throw new Error(`classify: id2label names ${id2label.length} classes but the head has ${model.numLabels}`);
  }
  return topKPredictions(await model.forwardLogits(pixels), id2label, k);
}
