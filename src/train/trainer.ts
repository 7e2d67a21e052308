// One training loop for every method and both model kinds (docs/engineering.md#one-trainer:
// methods as variants). Per step: a seeded batch, forward + backward (one submit), a same-step non-finite check,
// gradient clipping, the global LR schedule with the variant's parameter groups, AdamW. Around it: the
// cascade of COLA/LoRASC (noise, fresh expert and optimizer per iteration, slow-fast merge, rank
// growth), evaluation, NaN rollback, pause/stop, checkpoints and resume (./checkpoint.ts), and events
// for the UI, the CLI and the logs.
import { adapterVariant } from '../adapters/registry';
import type { LoadedModel } from '../io/hfModel';
import { tensorFloat32 } from '../io/safetensors';
import type { TrainableModel } from '../model/api';
import { Cascade, type ExpertWeights, type IterationReport } from './cascade';
import {
  type CheckpointStore, type TrainState, captureState, checkResume, nonFiniteTensors, restoreState, runFingerprint, writeCheckpoint,
} from './checkpoint';
import { type TrainingConfig, iterationLength, loraScale } from './config';
import { epochOrder } from '../io/datasets';
import type { TaskData } from './data';
import { evaluate, type EvalResult } from './evaluate';
import { KeepBest, restoreBest } from './keepBest';
import { type LinearModule, linearModules, loraKeys } from './modules';
import { mergeSingle } from './merge';
import { learningRate } from './schedule';

export type EngineModel<I> = TrainableModel<I> & { forwardLogits(input: I): Promise<Float32Array> };

/** One entry of HF trainer_state.json log_history. */
export type LogEntry = Record<string, number>;

export type TrainEvent =
  | { type: 'start'; totalSteps: number; stepsPerEpoch: number; iterations: number; trainExamples: number; valExamples: number; resumedFrom?: number }
  | { type: 'step'; step: number; epoch: number; iteration: number; loss: number; lr: number; gradNorm: number; targetsPerSec: number; elapsedMs: number }
  | { type: 'eval'; step: number; epoch: number; valLoss: number; valAccuracy?: number }
  | { type: 'iteration'; step: number; report: IterationReport }
  | { type: 'bad-step'; step: number; reason: string }
  | { type: 'rollback'; step: number; toStep: number; lrFactor: number; message: string }
  | { type: 'checkpoint'; step: number; bytes: number }
  | { type: 'checkpoint-error'; step: number; message: string }
  | { type: 'stopped'; step: number }
  | { type: 'early-stop'; step: number; bestStep: number | null; patience: number };

export interface TrainControl {
  shouldStop(): boolean;
  waitIfPaused(): Promise<void>;
}

export interface TrainSetup<E, I> {
  model: EngineModel<I>;
  loaded: LoadedModel;
  data: TaskData<E, I>;
  config: TrainingConfig;
  targets: LinearModule[];
  onEvent?: (e: TrainEvent) => void;
  control?: TrainControl;
  /** Where checkpoints are written (OPFS, the CLI's --out, memory); without one only the in-memory rollback point is kept. */
  checkpoints?: CheckpointStore;
  /** Continue from this checkpoint (loadLatestCheckpoint): the run then ends bit-identical to an uninterrupted one. */
  resumeFrom?: TrainState;
}

export interface TrainResult {
  steps: number;
  stopped: boolean;
  history: LogEntry[];
  finalTrainLoss: number;
  finalVal: EvalResult | null;
  bestVal: EvalResult | null;
  /** Merged weights of the modules the run changed, by module path, in their storage layout. */
  merged: Map<string, Float32Array>;
  /** The trained adapter's tensors by PEFT key (single-adapter runs), or the rank-T·r cascade adapter. */
  adapter: {
    tensors: Map<string, { data: Float32Array; shape: number[] }>;
    r: number;
    /** What the PEFT adapter_config.json records (lora_alpha, use_rslora). */
    loraAlpha: number;
    useRslora: boolean;
    /** The scale s those give (the one the run trained with; 1 for the stacked cascade adapter). */
    scale: number;
    useDora: boolean;
  } | null;
  /** Why there is no adapter export (DoRA cascade, persistent noise), when there is none. */
  adapterNote: string | null;
  /** Trainable non-LoRA tensors (the ViT classifier), by name. */
  head: Map<string, Float32Array>;
  /** Rank growth after each iteration (a single adapter: one report at the end). */
  iterations: IterationReport[];
  /** Keep-best: the step and validation loss of the evaluation whose weights merged/adapter/head hold; null = the last weights. */
  kept: { step: number; valLoss: number } | null;
  /** Early stop: the step the run ended at for want of improvement, or null. */
  earlyStoppedAt: number | null;
}

export function stepsPerEpoch(n: number, B: number, fixedBatch: boolean): number {
  if (n === 0) throw new Error('the training split is empty');
  return fixedBatch ? Math.ceil(n / B) : Math.max(1, Math.floor(n / B));
}

export function totalSteps(c: TrainingConfig, spe: number): number {
  return c.maxSteps > 0 ? c.maxSteps : c.epochs * spe;
}

/** Seed of the expert of iteration t (t = 1 for a single adapter). */
const expertSeed = (seed: number, t: number) => (Math.imul(seed, 1000003) + t * 7919) >>> 0;

export async function train<E, I>(s: TrainSetup<E, I>): Promise<TrainResult> {
  const { model, data, config: c } = s;
  const variant = adapterVariant(c.method);
  const emit = (e: TrainEvent) => s.onEvent?.(e);
  const B = c.batchSize;
  const microPerEpoch = stepsPerEpoch(data.train.length, B, data.fixedBatch);
  const spe = Math.ceil(microPerEpoch / c.gradAccum); // optimizer steps per epoch
  const total = totalSteps(c, spe);
  const policy = variant.cascade(c);
  const useDora = variant.useDora(c);
  const scale = loraScale(c);
  const iterLen = iterationLength(c, spe, total);
  const iterations = Math.ceil(total / iterLen);

  // Base weights on the CPU: a cascade's (its noise and merges) from the start, a single adapter's targets only
  // for the final merge; a streamed load keeps no copy, so they are read again (tensorFloat32).
  const baseOf = async (m: LinearModule) => {
    const t = s.loaded.tensors.get(m.weight);
    if (!t) throw new Error(`base weight ${m.weight} is missing`);
    return tensorFloat32(t);
  };
  const noised = policy?.noise?.scope === 'all' ? linearModules(s.loaded) : s.targets;
  const W0 = new Map<string, Float32Array>();
  if (policy) for (const m of [...s.targets, ...noised]) if (!W0.has(m.path)) W0.set(m.path, await baseOf(m));
  const cascade = policy ? new Cascade(s.targets, noised, W0, policy, c.r, scale, useDora, c.seed) : null;

  const entries = model.trainableEntries();
  const groups = new Map(entries.map((e) => [e.name, variant.paramGroup(e.name, e.shape, c)]));
  const group = (name: string) => {
    const g = groups.get(name);
    if (!g) throw new Error(`no optimizer group for ${name}`);
    return g;
  };

  const fingerprint = await runFingerprint(s.loaded, s.targets, entries, data, B);
  const every = c.checkpointEvery > 0 ? c.checkpointEvery : cascade ? iterLen : spe;
  // A cascade also checkpoints at every iteration start, so the rollback point never lies before a merge.
  const checkpointDue = (k: number) => k % every === 0 || (cascade !== null && k % iterLen === 0);
  const r = s.resumeFrom;
  if (r) checkResume(r, c, fingerprint, total);

  emit({ type: 'start', totalSteps: total, stepsPerEpoch: spe, iterations, trainExamples: data.train.length, valExamples: data.val.length, ...(r ? { resumedFrom: r.step } : {}) });
  let history: LogEntry[] = [];
  let reports: IterationReport[] = [];
  let lrFactor = 1, badRun = 0, lastLoss = NaN, bestVal: EvalResult | null = null, finalVal: EvalResult | null = null;
  let step = 0, stopped = false, targetsSeen = 0, inIteration = false;
  // A single adapter starts from the run's own init (a cascade inits at the start of every iteration).
  if (!cascade) model.initLora(expertSeed(c.seed, 1));
  if (r) {
    restoreState(model, cascade, r);
    ({ step, inIteration, lrFactor, badRun, lastLoss, bestVal, finalVal, targetsSeen } = r);
    history = r.history.slice();
    reports = r.reports.slice();
  }
  /** The NaN guard's rollback point: the last checkpoint taken, written or not. */
  let good: TrainState | null = r ?? null;
  // ---- keep-best / early stop (./keepBest.ts): judged after each evaluation, applied after the loop ----
  const keep = new KeepBest(c, r?.keepBest);
  const t0 = now() - (r?.elapsedMs ?? 0);
  let order: Uint32Array = new Uint32Array(0), orderEpoch = -1;

  /** Evaluates after `atStep` optimizer steps (the step numbering of the train log, from 1). */
  const runEval = async (epoch: number, atStep: number) => {
    if (data.val.length === 0) return;
    const ev = await evaluate(model, data, B, c.evalExamples > 0 ? data.val.slice(0, c.evalExamples) : data.val);
    finalVal = ev;
    if (!bestVal || ev.loss < bestVal.loss) bestVal = ev;
    const entry: LogEntry = { eval_loss: ev.loss, epoch, step: atStep };
    if (ev.accuracy !== undefined) entry.eval_accuracy = ev.accuracy;
    history.push(entry);
    emit({ type: 'eval', step: atStep, epoch, valLoss: ev.loss, ...(ev.accuracy !== undefined ? { valAccuracy: ev.accuracy } : {}) });
    // A cascade's model is an exportable one only between iterations (merged backbone, expert at B = 0).
    const ended = await keep.observe(ev.loss, atStep, !cascade || !inIteration, async () => ({
      weights: await model.readLoraWeights(), cascade: cascade?.snapshot() ?? null, cascadeIteration: cascade?.iteration ?? 0,
    }));
    if (ended && atStep < total) emit({ type: 'early-stop', step: atStep, bestStep: keep.state().bestStep, patience: c.earlyStopPatience });
  };

  const rollback = (why: string) => {
    if (!good) throw new Error('no rollback point (unreachable: one is taken before the first step)');
    if (cascade && good.cascadeIteration !== cascade.iteration) {
      throw Object.assign(new Error(`step ${step}: ${why}, and the last finite checkpoint (step ${good.step}) lies before the last cascade merge; the run cannot continue`), { code: 'TRAIN_NONFINITE' });
    }
    restoreState(model, cascade, good);
    lrFactor *= c.rollbackLrFactor;
    badRun = 0;
    emit({ type: 'rollback', step, toStep: good.step, lrFactor, message: `${why}: weights and optimizer restored from the checkpoint of step ${good.step}, learning rate × ${lrFactor}` });
  };

  /** Captures the state at the top of step k; a finite one becomes the rollback point and is written to the store. */
  const checkpoint = async (k: number): Promise<boolean> => {
    const state = await captureState(model, cascade, {
      step: k, totalSteps: total, inIteration, config: c, fingerprint,
      lrFactor, badRun, lastLoss, bestVal, finalVal, targetsSeen, elapsedMs: now() - t0, history, reports,
      keepBest: keep.active ? keep.state() : null,
    });
    const bad = nonFiniteTensors(state);
    if (bad.length) {
      emit({ type: 'bad-step', step: k, reason: `the state holds non-finite values (${bad[0].name}: ${bad[0].count}${bad.length > 1 ? `, ${bad.length - 1} more tensors` : ''}); not checkpointed` });
      return false;
    }
    if (k < total) good = state;
    if (!s.checkpoints) return true;
    try {
      const w = await writeCheckpoint(s.checkpoints, state);
      emit({ type: 'checkpoint', step: k, bytes: w.bytes });
    } catch (e) {
      emit({ type: 'checkpoint-error', step: k, message: `checkpoint of step ${k} not written: ${e instanceof Error ? e.message : String(e)}` });
    }
    return true;
  };

  /**
   * Forward + backward of optimizer step k: gradAccum micro-batches (HF's gradient_accumulation_steps;
   * the last step of an epoch may have fewer), their gradients averaged on the CPU in Float64 — the
   * trainable tensors are small — and written back before the non-finite check and clipping.
   */
  const forwardBackward = async (k: number): Promise<{ loss: number; examples: E[] }> => {
    const epochIdx = Math.floor(k / spe);
    if (epochIdx !== orderEpoch) { order = epochOrder(data.train.length, c.seed, epochIdx); orderEpoch = epochIdx; }
    const first = (k % spe) * c.gradAccum;
    const micro = Math.min(c.gradAccum, microPerEpoch - first);
    const examples: E[] = [];
    let lossSum = 0;
    let acc: Map<string, Float64Array> | null = null;
    for (let j = 0; j < micro; j++) {
      const pos = first + j;
      const idx = Array.from(order.subarray(pos * B, Math.min(pos * B + B, data.train.length)));
      const batchExamples = idx.map((i) => data.train[i]);
      examples.push(...batchExamples);
      const batch = data.collate(batchExamples, B);
      const { loss } = await model.step(batch.input, batch.labels);
      lossSum += loss;
      if (micro === 1) break;
      const g = await model.readGrads();
      acc ??= new Map([...g].map(([name, v]) => [name, new Float64Array(v.length)]));
      for (const [name, v] of g) { const a = acc.get(name) as Float64Array; for (let i = 0; i < v.length; i++) a[i] += v[i]; }
    }
    if (acc) model.writeGrads(new Map([...acc].map(([name, a]) => [name, Float32Array.from(a, (x) => x / micro)])));
    return { loss: lossSum / micro, examples };
  };

  for (let resumed = r !== undefined; step < total && !keep.shouldStop; step++, resumed = false) {
    await s.control?.waitIfPaused();
    if (s.control?.shouldStop()) { stopped = true; emit({ type: 'stopped', step }); break; }
    const t = Math.floor(step / iterLen); // 0-based iteration
    if (cascade && step % iterLen === 0 && !(resumed && inIteration)) {
      // Fresh expert first: DoRA's magnitude initialises from the clean backbone the model holds now.
      model.initLora(expertSeed(c.seed, t + 1));
      model.resetOptimizer('adapter'); // the expert's moments only: a new ViT head trains on across iterations
      cascade.beginIteration(model);
      inIteration = true;
    }
    if ((checkpointDue(step) || !good) && !resumed && !(await checkpoint(step))) rollback('the state went non-finite');
    const { loss, examples } = await forwardBackward(step);
    // The bit-pattern scan and the norm are both queued before either readback is awaited: one GPU round
    // trip per step for the two, not two (WGSL may not propagate NaN/Inf through the norm's sum, so the
    // scan, not a non-finite norm, decides).
    const [nonFinite, gradNorm] = Number.isFinite(loss) ? await Promise.all([model.nonFiniteGrads(), model.gradNorm()]) : [1, NaN];
    if (nonFinite > 0) {
      badRun++;
      emit({ type: 'bad-step', step, reason: Number.isFinite(loss) ? `${nonFinite} non-finite gradient values` : `loss is ${loss}` });
      if (badRun >= c.nanPatience) rollback(`${c.nanPatience} bad steps in a row`);
      continue; // the update is skipped
    }
    badRun = 0;
    if (c.maxGradNorm > 0) {
      const coef = c.maxGradNorm / (gradNorm + 1e-6); // torch.nn.utils.clip_grad_norm_
      if (coef < 1) model.scaleGrads(coef);
    }
    const schedStep = c.restartSchedule && cascade ? step % iterLen : step;
    const schedTotal = c.restartSchedule && cascade ? Math.min(iterLen, total - t * iterLen) : total;
    const lr = learningRate(c.lr, schedStep, { kind: c.schedule, warmupRatio: c.warmupRatio, totalSteps: schedTotal }) * lrFactor;
    await model.adamwStep((name) => lr * group(name).lrScale, {
      weightDecay: (name) => group(name).weightDecay, beta1: c.beta1, beta2: c.beta2, eps: c.eps,
    });
    lastLoss = loss;
    targetsSeen += examples.reduce((n, e) => n + data.targets(e), 0);
    const epoch = (step + 1) / spe;
    if ((step + 1) % c.logEvery === 0 || step + 1 === total) {
      const elapsedMs = now() - t0;
      history.push({ loss, grad_norm: gradNorm, learning_rate: lr, epoch, step: step + 1 });
      emit({ type: 'step', step: step + 1, epoch, iteration: t + 1, loss, lr, gradNorm, targetsPerSec: targetsSeen / (elapsedMs / 1000), elapsedMs });
    }
    const iterationEnds = (step + 1) % iterLen === 0 || step + 1 === total;
    if (cascade && iterationEnds) {
      const report = cascade.endIteration(model, expertsOf(await model.readLoraWeights(), s.targets));
      model.initLora(expertSeed(c.seed, t + 2)); // B = 0: the model is now exactly the merged backbone
      inIteration = false;
      reports.push(report);
      emit({ type: 'iteration', step: step + 1, report });
    }
    const epochEnds = (step + 1) % spe === 0;
    if ((c.evalEvery > 0 && (step + 1) % c.evalEvery === 0) || (c.evalEvery === 0 && epochEnds)) await runEval(epoch, step + 1);
    if (keep.shouldStop) { step++; break; } // early stop: `step` counts the steps done, as at a normal end
  }
  // A pause asked for during the last step holds here, before the final evaluation and the merge.
  if (!stopped) await s.control?.waitIfPaused();
  if (!stopped && s.control?.shouldStop()) { stopped = true; emit({ type: 'stopped', step }); }
  if (!stopped && (history.length === 0 || !('eval_loss' in history[history.length - 1]))) await runEval(step / spe, step);
  // The finished run's state, so that a resume of a finished run rebuilds its result without training.
  if (!stopped && s.checkpoints && !(r && r.step === total)) await checkpoint(step);
  // Keep-best: the result (merged, adapter, head) is built from the kept weights.
  const best = keep.best;
  if (best) restoreBest(model, cascade, best);
  const kept = best ? { step: best.step, valLoss: best.valLoss } : null;
  const earlyStoppedAt = keep.earlyStoppedAt !== null && keep.earlyStoppedAt < total ? keep.earlyStoppedAt : null;

  const weights = await model.readLoraWeights();
  const head = new Map([...weights].filter(([k]) => !k.includes('.lora_')));
  if (cascade) {
    const merged = cascade.mergedWeights();
    let adapter: TrainResult['adapter'] = null;
    if (cascade.lowRankExact && cascade.iteration > 0) {
      const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
      let r = 0;
      for (const m of s.targets) {
        const st = cascade.stackedAdapter(m.path, m);
        r = st.r;
        const k = loraKeys(m.path);
        tensors.set(k.A, { data: st.A, shape: [st.r, m.IN] });
        tensors.set(k.B, { data: st.B, shape: [m.OUT, st.r] });
      }
      adapter = { tensors, r, loraAlpha: r, useRslora: false, scale: 1, useDora: false };
    }
    const adapterNote = adapter ? null : useDora ? 'a DoRA cascade is not low-rank: exported merged only' :
      policy?.noise?.persistent ? 'persistent noise stays in the backbone: exported merged only' : 'no iteration finished';
    return { steps: step, stopped, history, finalTrainLoss: lastLoss, finalVal, bestVal, merged, adapter, adapterNote, head, iterations: reports, kept, earlyStoppedAt };
  }
  // A single adapter: merged = W0 + s·B·A (DoRA: the DoRA merge), plus its rank report.
  for (const m of s.targets) if (!W0.has(m.path)) W0.set(m.path, await baseOf(m));
  const { merged, tensors, report } = mergeSingle(weights, s.targets, W0, c.r, scale, useDora);
  reports.push(report);
  emit({ type: 'iteration', step, report });
  const adapter = { tensors, r: c.r, loraAlpha: c.loraAlpha, useRslora: c.useRslora, scale, useDora };
  return { steps: step, stopped, history, finalTrainLoss: lastLoss, finalVal, bestVal, merged, adapter, adapterNote: null, head, iterations: reports, kept, earlyStoppedAt };
}

function expertsOf(weights: ReadonlyMap<string, Float32Array>, targets: LinearModule[]): Map<string, ExpertWeights> {
  const out = new Map<string, ExpertWeights>();
  for (const m of targets) {
    const k = loraKeys(m.path);
    const A = weights.get(k.A), B = weights.get(k.B);
    if (!A || !B) throw new Error(`the model has no LoRA weights for ${m.path}`);
    const mag = weights.get(k.m);
    out.set(m.path, { A, B, ...(mag ? { m: mag } : {}) });
  }
  return out;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
