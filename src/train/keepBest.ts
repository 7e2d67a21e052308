// Keep-best and early stop, with the semantics users know from the HF Trainer:
// - keep-best (`load_best_model_at_end`): the weights of the evaluation with the lowest validation loss
//   are what the run returns, exports and serves in the playground. A "better" evaluation is strictly
//   lower (HF `greater_is_better=False`).
// - early stop (`EarlyStoppingCallback`): patience counts evaluations; an evaluation resets the count
//   only when it beats the best so far by more than the threshold (HF `early_stopping_threshold`),
//   otherwise it adds one; the run ends when the count reaches the patience.
// For a cascade (COLA, LoRASC) the exported model is defined only at iteration boundaries (the merged
// slow weights, with the next expert at B = 0), so only evaluations made there are candidates, and only
// they count towards the patience; an evaluation inside an iteration is logged but judged by neither.
// The state (best weights included) goes into every checkpoint, so an exact resume keeps working.
import type { TrainableModel } from '../model/api';
import type { Cascade } from './cascade';

export interface KeepBestOptions {
  keepBest: boolean;
  /** Evaluations without improvement before the run stops; 0 = no early stop. */
  earlyStopPatience: number;
  /** An improvement must exceed this to reset the patience count. */
  earlyStopThreshold: number;
}

/** The model as it was at the best evaluation. */
export interface BestWeights {
  /** Optimizer steps done when the evaluation was made (the log's step number). */
  step: number;
  valLoss: number;
  /** Trainable tensors (LoRA and head) as readLoraWeights returned them. */
  weights: Map<string, Float32Array>;
  /** Cascade.snapshot() and the iterations merged, for a cascade; null for a single adapter. */
  cascade: Map<string, Float32Array> | null;
  cascadeIteration: number;
}

export interface KeepBestState {
  /** Best candidate loss and its step so far (tracked for early stop even without keep-best). */
  bestLoss: number | null;
  bestStep: number | null;
  /** Candidate evaluations in a row without an improvement beyond the threshold. */
  badEvals: number;
  /** The step the run stopped early at, or null. */
  earlyStoppedAt: number | null;
  /** Kept weights (keep-best only). */
  best: BestWeights | null;
}

export const emptyKeepBest = (): KeepBestState => ({ bestLoss: null, bestStep: null, badEvals: 0, earlyStoppedAt: null, best: null });

export class KeepBest {
  private s: KeepBestState;

  constructor(private readonly o: KeepBestOptions, resumed?: KeepBestState | null) {
    this.s = resumed ? { ...resumed } : emptyKeepBest();
  }

  get active(): boolean {
    return this.o.keepBest || this.o.earlyStopPatience > 0;
  }

  /** The run should end now (patience used up). */
  get shouldStop(): boolean {
    return this.s.earlyStoppedAt !== null;
  }

  get best(): BestWeights | null {
    return this.s.best;
  }

  get earlyStoppedAt(): number | null {
    return this.s.earlyStoppedAt;
  }

  /**
   * Judges one evaluation. `candidate`: the model is the one an export would hold (always for a single
   * adapter; at an iteration boundary for a cascade). `capture` reads the weights (only called on a new best
   * with keep-best on). Returns true when this evaluation ended the patience.
   */
  async observe(valLoss: number, step: number, candidate: boolean, capture: () => Promise<Omit<BestWeights, 'step' | 'valLoss'>>): Promise<boolean> {
    if (!this.active || !candidate || !Number.isFinite(valLoss)) return false;
    const prev = this.s.bestLoss;
    const better = prev === null || valLoss < prev;
    const beyondThreshold = prev === null || (better && prev - valLoss > this.o.earlyStopThreshold);
    if (better) {
      this.s.bestLoss = valLoss;
      this.s.bestStep = step;
      if (this.o.keepBest) this.s.best = { step, valLoss, ...(await capture()) };
    }
    this.s.badEvals = beyondThreshold ? 0 : this.s.badEvals + 1;
    if (this.o.earlyStopPatience > 0 && this.s.badEvals >= this.o.earlyStopPatience) {
      this.s.earlyStoppedAt = step;
      return true;
    }
    return false;
  }

  /** A copy for a checkpoint (the kept tensors are never written to after capture, so they are shared). */
  state(): KeepBestState {
    return { ...this.s };
  }
}

/** Puts the model (and the cascade) back to the kept weights: the merged backbone of then, and its trainable tensors. */
export function restoreBest(model: TrainableModel<unknown>, cascade: Cascade | null, b: BestWeights): void {
  if (cascade) {
    if (!b.cascade) throw new Error('keep-best: the kept state has no cascade snapshot');
    cascade.restore(b.cascade, b.cascadeIteration);
    for (const [path, w] of cascade.mergedWeights()) model.setBaseWeight(path, w);
  }
  model.setLoraWeights(b.weights);
}

// ---- checkpoint form: scalars in state.json, tensors under two prefixes of the tensors file ----

export const BEST_WEIGHT = 'best_weight';
export const BEST_CASCADE = 'best_cascade';

export type KeepBestJson = Omit<KeepBestState, 'best'> & { best: { step: number; valLoss: number; cascadeIteration: number; cascade: boolean } | null };

export function keepBestToJson(s: KeepBestState): KeepBestJson {
  const { best, ...rest } = s;
  return { ...rest, best: best ? { step: best.step, valLoss: best.valLoss, cascadeIteration: best.cascadeIteration, cascade: best.cascade !== null } : null };
}

/** The kept tensors by group prefix, for the checkpoint's tensors file. */
export function keepBestTensors(s: KeepBestState): [string, Map<string, Float32Array>][] {
  if (!s.best) return [];
  return [[BEST_WEIGHT, s.best.weights], ...(s.best.cascade ? [[BEST_CASCADE, s.best.cascade] as [string, Map<string, Float32Array>]] : [])];
}

export function keepBestFromJson(j: unknown, groups: ReadonlyMap<string, Map<string, Float32Array>>, bad: (msg: string) => Error): KeepBestState | null {
  if (j === undefined || j === null) return null;
  const o = j as KeepBestJson;
  const int = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (typeof o !== 'object' || !int(o.badEvals) || !(o.bestStep === null || int(o.bestStep)) || !(o.earlyStoppedAt === null || int(o.earlyStoppedAt))) {
    throw bad('keepBest is malformed');
  }
  let best: BestWeights | null = null;
  if (o.best) {
    const weights = groups.get(BEST_WEIGHT);
    const cascade = o.best.cascade ? groups.get(BEST_CASCADE) : null;
    if (!weights?.size || (o.best.cascade && !cascade?.size)) throw bad('the kept best weights are missing');
    best = { step: o.best.step, valLoss: o.best.valLoss, cascadeIteration: o.best.cascadeIteration, weights, cascade: cascade ?? null };
  }
  return { bestLoss: o.bestLoss, bestStep: o.bestStep, badEvals: o.badEvals, earlyStoppedAt: o.earlyStoppedAt, best };
}
