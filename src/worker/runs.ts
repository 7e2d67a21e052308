// The studio's runs in OPFS (lorasc-runs/<run id>/): run.json names the model and data a run trained
// on (they must be loaded again to resume it: base weights and data are never copied into a
// checkpoint), the unfinished runs offered for resume after a reload, and the curves a resumed run
// sends again from its checkpoint's history.
import { OpfsStore, listOpfsRuns } from '../io/opfs';
import { type TrainState, peekLatestCheckpoint } from '../train/checkpoint';
import type { IterationReport } from '../train/cascade';
import { type TrainingConfig, iterationLength } from '../train/config';
import type { EvalPoint, StepPoint, UnfinishedRun } from './protocol';
import type { LoadedData } from './sources';

export interface RunMeta {
  model: string;
  data: string;
}

const META = 'run.json';

export const dataLabel = (d: LoadedData) => (d.kind === 'text' ? d.name : d.label);

export function writeMeta(store: OpfsStore, meta: RunMeta): Promise<void> {
  return store.write(META, new TextEncoder().encode(JSON.stringify(meta)));
}

export async function readMeta(store: OpfsStore): Promise<RunMeta | null> {
  const raw = await store.read(META);
  if (!raw) return null;
  try {
    const j = JSON.parse(new TextDecoder().decode(raw)) as Partial<RunMeta>;
    return typeof j.model === 'string' && typeof j.data === 'string' ? { model: j.model, data: j.data } : null;
  } catch {
    return null;
  }
}

/** Runs whose newest committed checkpoint lies before their end (skipping the ones `active` names). */
export async function unfinishedRuns(active: (runId: string) => boolean): Promise<UnfinishedRun[]> {
  const out: UnfinishedRun[] = [];
  for (const runId of await listOpfsRuns()) {
    if (active(runId)) continue;
    const store = new OpfsStore(runId);
    const meta = await readMeta(store);
    const peek = await peekLatestCheckpoint(store);
    if (meta && peek && peek.step < peek.totalSteps) out.push({ runId, step: peek.step, totalSteps: peek.totalSteps, config: peek.config, model: meta.model, data: meta.data });
  }
  return out;
}

/** The step and eval points and rank reports of a checkpoint's history, as the live run emitted them (throughput unknown: 0). */
export function backfillOf(c: TrainingConfig, s: TrainState, stepsPerEpoch: number): { steps: StepPoint[]; evals: EvalPoint[]; iterations: { step: number; report: IterationReport }[] } {
  const iterLen = iterationLength(c, stepsPerEpoch, s.totalSteps);
  const steps = s.history.filter((h) => 'loss' in h).map((h) => ({
    step: h.step, epoch: h.epoch, iteration: Math.floor((h.step - 1) / iterLen) + 1, loss: h.loss, lr: h.learning_rate, gradNorm: h.grad_norm, tokensPerSec: 0,
  }));
  const evals = s.history.filter((h) => 'eval_loss' in h).map((h) => ({ step: h.step, valLoss: h.eval_loss, ...(h.eval_accuracy !== undefined ? { valAccuracy: h.eval_accuracy } : {}) }));
  const iterations = s.reports.map((report) => ({ step: Math.min(report.iteration * iterLen, s.totalSteps), report }));
  return { steps, evals, iterations };
}
