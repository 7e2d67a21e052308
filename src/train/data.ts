// What the trainer trains on: examples already tokenised (GPT-2) or decoded and preprocessed (ViT),
// split into train and validation, and a collate that turns a list of examples into one engine batch.
// GPT-2's engine has a fixed batch shape (B, T), so a short batch is padded with ignored rows
// (labels −100: they add nothing to the loss or the gradients).
import { IGNORE_INDEX } from '../ref/softmax_xent';

export interface LmExample {
  ids: Uint32Array; // [T]
  labels: Int32Array; // [T], −100 where not trained
}

export interface ImageExample {
  pixels: Float32Array; // [C·H·W], preprocessed
  label: number;
}

export interface TaskData<E, I> {
  kind: 'lm' | 'image';
  train: E[];
  val: E[];
  /** One engine batch of exactly B rows (GPT-2: padded) or of the examples given (ViT). */
  collate(examples: E[], B: number): { input: I; labels: Int32Array };
  /** Trained targets in an example (tokens/s counts these). */
  targets(e: E): number;
  /** True when every batch must have exactly B rows (GPT-2); else the last may be short. */
  fixedBatch: boolean;
}

export function lmTaskData(train: LmExample[], val: LmExample[], T: number): TaskData<LmExample, Uint32Array> {
  for (const [i, e] of [...train, ...val].entries()) {
    if (e.ids.length !== T || e.labels.length !== T) throw new Error(`example ${i}: ${e.ids.length} ids / ${e.labels.length} labels, expected T = ${T}`);
  }
  return {
    kind: 'lm', train, val, fixedBatch: true,
    collate(examples, B) {
      if (examples.length > B) throw new Error(`collate: ${examples.length} examples for a batch of ${B}`);
      const input = new Uint32Array(B * T);
      const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
      examples.forEach((e, b) => { input.set(e.ids, b * T); labels.set(e.labels, b * T); });
      return { input, labels };
    },
    targets: (e) => e.labels.reduce((n, y) => n + (y === IGNORE_INDEX ? 0 : 1), 0),
  };
}

export function imageTaskData(train: ImageExample[], val: ImageExample[], pixelsPerImage: number): TaskData<ImageExample, Float32Array> {
  for (const [i, e] of [...train, ...val].entries()) {
    if (e.pixels.length !== pixelsPerImage) throw new Error(`image ${i}: ${e.pixels.length} values, expected ${pixelsPerImage}`);
  }
  return {
    kind: 'image', train, val, fixedBatch: false,
    collate(examples) {
      const input = new Float32Array(examples.length * pixelsPerImage);
      examples.forEach((e, b) => input.set(e.pixels, b * pixelsPerImage));
      return { input, labels: Int32Array.from(examples, (e) => e.label) };
    },
    targets: () => 1,
  };
}
