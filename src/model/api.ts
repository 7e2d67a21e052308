// The training surface both engines (Gpt2LoraModel, VitLoraModel) implement with the same names and
// semantics, so the trainer drives either without naming a model (docs/engineering.md#one-trainer).
// Names are PEFT adapter keys (docs/formats.md#adapter-tensors); module paths are PEFT module paths.

/** A hyper-parameter given once for every tensor, or per tensor by PEFT name (LoRA+ groups, docs/method.md#lora-plus). */
export type PerTensor = number | ((name: string) => number);

export const valueFor = (v: PerTensor, name: string): number => (typeof v === 'number' ? v : v(name));

export interface AdamWStepOptions {
  /** Decoupled weight decay (torch.optim.AdamW); default: the engine's (0 unless configured). */
  weightDecay?: PerTensor;
  beta1?: number; // default 0.9
  beta2?: number; // default 0.999
  eps?: number; // default 1e-8
}

export interface TrainableEntryInfo {
  name: string; // PEFT key, e.g. base_model.model.<module>.lora_A.weight, classifier.weight
  shape: number[];
}

/**
 * Everything of the optimizer a bit-identical resume needs (checkpoints): the AdamW moments by trainable
 * name, the AdamW step count t (bias corrections) and the LoRA-dropout step counter (the masks' Philox
 * counters). Values are the exact F32 bits.
 */
export interface OptimizerState {
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  step: number;
  dropoutStep: number;
}

export interface TrainableModel<Input> {
  /** Every trainable tensor, in the engine's fixed order. */
  trainableEntries(): TrainableEntryInfo[];
  /** Overwrites the frozen weight of a targetable linear module (path = PEFT module path). */
  setBaseWeight(path: string, w: Float32Array): void;
  /** Forward + loss only: no backward, gradients untouched. count = targets that count in the mean. */
  evalLoss(input: Input, labels: Int32Array): Promise<{ loss: number; count: number }>;
  /** Forward + loss + backward; fresh gradients. */
  step(input: Input, labels: Int32Array): Promise<{ loss: number }>;
  adamwStep(lr: PerTensor, o?: AdamWStepOptions): Promise<void>;
  /** Global L2 norm of the current gradients. */
  gradNorm(): Promise<number>;
  /** g ← factor·g for every gradient, queued before anything submitted after the call. */
  scaleGrads(factor: number): void;
  /** Number of NaN/±Inf gradient elements. */
  nonFiniteGrads(): Promise<number>;
  readGrads(): Promise<Map<string, Float32Array>>;
  /** Overwrites the gradients by name (gradient accumulation sums micro-batches on the CPU). */
  writeGrads(values: ReadonlyMap<string, Float32Array>): void;
  readLoraWeights(): Promise<Map<string, Float32Array>>;
  setLoraWeights(values: ReadonlyMap<string, Float32Array>): void;
  /** A fresh adapter (PEFT init: A kaiming-uniform from the seed, B = 0); a task head is left as it is. */
  initLora(seed: number): void;
  resetOptimizer(): void;
  /** The AdamW moments, step count and dropout counter, read back bit for bit. */
  readOptimizerState(): Promise<OptimizerState>;
  /** Sets what readOptimizerState returned; every trainable tensor must be present, with its size. */
  setOptimizerState(state: OptimizerState): void;
  destroy(): void;
}

/** Refuses an optimizer state that does not fit the model: a missing or extra tensor, a wrong size, a bad counter. */
export function checkOptimizerState(s: OptimizerState, entries: readonly { name: string; numel: number }[]): void {
  if (!Number.isSafeInteger(s.step) || s.step < 0) throw new Error(`optimizer state: step ${s.step} is not an integer ≥ 0`);
  if (!Number.isSafeInteger(s.dropoutStep) || s.dropoutStep < 0) throw new Error(`optimizer state: dropoutStep ${s.dropoutStep} is not an integer ≥ 0`);
  for (const [what, map] of [['m', s.m], ['v', s.v]] as const) {
    if (map.size !== entries.length) throw new Error(`optimizer state: ${what} has ${map.size} tensors; the model has ${entries.length}`);
    for (const e of entries) {
      const x = map.get(e.name);
      if (!x) throw new Error(`optimizer state: ${what} has no tensor ${e.name}`);
      if (x.length !== e.numel) throw new Error(`optimizer state: ${what}.${e.name} has ${x.length} values; expected ${e.numel}`);
    }
  }
}
