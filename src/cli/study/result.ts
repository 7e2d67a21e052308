// What one finished cell saves (<out>/cells/<id>.json) and what the report reads back. Plain JSON.
import type { Cell, CorruptionSpec, TaskData } from './grid';

export interface EvalPoint {
  epoch: number;
  step: number;
  loss: number;
  accuracy?: number;
}

export interface Environment {
  userAgent: string;
  adapter: { vendor: string; architecture: string; device: string; description: string };
  backend: string;
  hardwareConcurrency: number;
}

export interface CellResult {
  /** Format of this file; a different one is rerun, never read. */
  format: 1;
  cell: Cell;
  data: TaskData;
  corruption?: CorruptionSpec;
  /** The resolved TrainingConfig the trainer ran with. */
  config: Record<string, unknown>;
  trainExamples: number;
  valExamples: number;
  steps: number;
  iterations: number;
  /** Validation after every epoch (the trainer's own evaluations). */
  curve: EvalPoint[];
  finalVal: { loss: number; accuracy?: number };
  bestVal: { loss: number; accuracy?: number };
  /** The final model on the training examples it trained on (evaluation mode, no dropout). */
  trainEval: { loss: number; accuracy?: number } | null;
  /** finalVal.loss − trainEval.loss (null when the task's data skips the training-set evaluation). */
  gap: number | null;
  /** Loss of the last training batch (null for the untrained base model). */
  finalTrainLoss: number | null;
  /** Effective rank (σ > 1e-3·σ_max) of each targeted layer's total update; null for DoRA cascades. */
  effectiveRank: { mean: number; min: number; max: number; entropyMean: number; layers: number } | null;
  /** ViT: accuracy and loss on the held-out images and on each corrupted copy of them. */
  robustness?: Record<string, { accuracy: number; loss: number }>;
  nonFiniteSteps: number;
  rollbacks: number;
  wallMs: number;
  env: Environment;
  finishedAt: string;
}
