// How long will a run take, before it starts? Its size (optimizer steps, evaluation batches, from the
// trainer's own step arithmetic) times the measured speed of this device for this run's shape: one
// training step and one evaluation batch timed on the real engine (Studio.timeStep) — a single timed
// step captures what a FLOP count misses on small models (dispatch overheads, readbacks; on
// SwiftShader those, not the matmuls, dominate the demo's step time).
import type { TrainingConfig } from '../train/config';

export interface RunSize {
  totalSteps: number;
  /** Evaluations the run will make (periodic ones and the final one), and batches per evaluation. */
  evaluations: number;
  evalBatches: number;
}

export interface StepTiming {
  /** One optimizer step (gradAccum micro-batches, the NaN scan, the norm, AdamW), ms. */
  stepMs: number;
  /** One validation batch, ms. */
  evalBatchMs: number;
}

/** The run's size from its config and the split sizes (as src/train/trainer.ts counts). */
export function runSize(c: TrainingConfig, split: { train: number; val: number }, fixedBatch: boolean): RunSize {
  const B = c.batchSize;
  const micro = fixedBatch ? Math.ceil(split.train / B) : Math.max(1, Math.floor(split.train / B));
  const spe = Math.ceil(micro / c.gradAccum);
  const totalSteps = c.maxSteps > 0 ? c.maxSteps : c.epochs * spe;
  const periodic = c.evalEvery > 0 ? Math.floor(totalSteps / c.evalEvery) : Math.floor(totalSteps / spe);
  const aligned = c.evalEvery > 0 ? totalSteps % c.evalEvery === 0 : totalSteps % spe === 0;
  const evaluations = split.val > 0 ? periodic + (aligned ? 0 : 1) : 0;
  const evalCount = c.evalExamples > 0 ? Math.min(c.evalExamples, split.val) : split.val;
  return { totalSteps, evaluations, evalBatches: Math.ceil(evalCount / B) };
}

/** Estimated duration in ms (early stop can only make it shorter). */
export function durationMs(size: RunSize, t: StepTiming): number {
  return size.totalSteps * t.stepMs + size.evaluations * size.evalBatches * t.evalBatchMs;
}
