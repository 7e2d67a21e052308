// Keep-best and early stop (src/train/keepBest.ts) on the tiny GPT-2 with the real trainer and engine.
// The task overfits on purpose: the training split walks one token cycle, the validation split another,
// so as the model learns the first cycle the validation loss first moves and then rises. Checked:
// - keep-best returns weights whose validation loss, measured again in a fresh engine from the
//   returned merged weights, equals the best logged evaluation (LoRA: any evaluation; LoRASC: the
//   best evaluation at an iteration boundary), and that best is not the last evaluation;
// - early stop ends the run after `patience` evaluations without improvement, before its last step;
// - with both on, a run killed after the best was kept and resumed from its checkpoint ends
//   bit-identical to the uninterrupted run (the kept weights travel in the checkpoint).
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import { MemoryStore } from '../../../src/io/store';
import { loadLatestCheckpoint, type TrainState } from '../../../src/train/checkpoint';
import { type TrainingConfig, resolveConfig } from '../../../src/train/config';
import { type LmExample, type TaskData, lmTaskData } from '../../../src/train/data';
import { createEngine, engineOptions } from '../../../src/train/engine';
import { evaluate } from '../../../src/train/evaluate';
import { linearModules, targetedModules } from '../../../src/train/modules';
import { type EngineModel, type TrainResult, train } from '../../../src/train/trainer';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { expectBits } from './helpers';

const B = 4, T = 12;

/** Train on cycle `a` only, validate on cycle `b` only: learning `a` makes `b` less likely. */
function overfitTask(): TaskData<LmExample, Uint32Array> {
  const walk = (cyc: number[], start: number): LmExample => {
    const seq = Array.from({ length: T + 1 }, (_, i) => cyc[(start + i) % cyc.length]);
    return { ids: Uint32Array.from(seq.slice(0, T)), labels: Int32Array.from(seq.slice(1)) };
  };
  const a = [17, 42, 73, 5, 88], b = [3, 61, 29, 94, 50, 11, 36];
  return lmTaskData(Array.from({ length: 8 }, (_, i) => walk(a, i)), Array.from({ length: 4 }, (_, i) => walk(b, i)), T);
}

const BASE: Partial<TrainingConfig> = {
  targetModules: ['c_attn', 'c_fc'], r: 2, loraAlpha: 4, lr: 3e-2, schedule: 'constant', warmupRatio: 0, loraDropout: 0,
  batchSize: B, seqLen: T, seed: 5, maxSteps: 12, evalEvery: 1,
};

let ctx: GpuContext;
let gpt2: LoadedGpt2;
let task: TaskData<LmExample, Uint32Array>;

beforeAll(async () => {
  ctx = await testContext();
  gpt2 = (await loadFixture('gpt2_tiny', 'gpt2')).loaded;
  task = overfitTask();
});

async function run(partial: Partial<TrainingConfig>, o: { store?: MemoryStore; stopAt?: number; resume?: TrainState } = {}): Promise<TrainResult> {
  const config = resolveConfig(partial);
  const targets = targetedModules(gpt2, config.targetModules);
  const engine = await createEngine(ctx, gpt2, engineOptions(config, targets, T)) as unknown as EngineModel<Uint32Array>;
  let k = o.resume?.step ?? 0;
  const control = { shouldStop: () => o.stopAt !== undefined && k++ >= o.stopAt, waitIfPaused: async () => undefined };
  try {
    return await train({ model: engine, loaded: gpt2, data: task, config, targets, control, checkpoints: o.store, resumeFrom: o.resume });
  } finally {
    engine.destroy();
  }
}

/** The validation loss of the returned model, in a fresh engine holding only the merged weights (as the playground and the export do). */
async function valLossOf(result: TrainResult): Promise<number> {
  const mods = linearModules(gpt2);
  const engine = await createEngine(ctx, gpt2, { targets: [mods[0]], r: 1, scale: 1, useDora: false, B, T, seed: 0 });
  try {
    engine.initLora(0); // B = 0: the adapter slot adds nothing
    for (const m of mods) { const w = result.merged.get(m.path); if (w) engine.setBaseWeight(m.path, w); }
    return (await evaluate(engine as unknown as EngineModel<Uint32Array>, task, B)).loss;
  } finally {
    engine.destroy();
  }
}

const evalsOf = (r: TrainResult) => r.history.filter((h) => 'eval_loss' in h).map((h) => ({ step: h.step, loss: h.eval_loss }));
const argmin = (xs: { step: number; loss: number }[]) => xs.reduce((a, b) => (b.loss < a.loss ? b : a));

describe('keep-best', () => {
  it('LoRA: the returned weights have the best logged validation loss, not the last one', async () => {
    const r = await run({ ...BASE, method: 'lora', keepBest: true });
    const evals = evalsOf(r);
    expect(evals.length).toBe(12);
    const best = argmin(evals);
    // The task overfits: the best evaluation is not the last, and the validation loss rises after it.
    expect(best.step).toBeLessThan(12);
    expect(evals[evals.length - 1].loss).toBeGreaterThan(best.loss + 1e-3);
    expect(r.kept).toEqual({ step: best.step, valLoss: best.loss });
    expect(r.bestVal?.loss).toBe(best.loss);
    // Measured again from the returned merged weights: the merge sums in another order than the LoRA kernel.
    expect(Math.abs((await valLossOf(r)) - best.loss)).toBeLessThan(1e-4);
    expect(r.earlyStoppedAt).toBeNull();
    expect(r.steps).toBe(12);
  });

  it('LoRASC: the kept model is the best evaluation at an iteration boundary (merged slow weights)', async () => {
    const r = await run({ ...BASE, method: 'lorasc', iterationSteps: 3, keepBest: true });
    const boundary = evalsOf(r).filter((e) => e.step % 3 === 0);
    expect(boundary.length).toBe(4);
    const best = argmin(boundary);
    expect(r.kept).toEqual({ step: best.step, valLoss: best.loss });
    expect(best.step).toBeLessThan(12);
    // The stacked adapter holds the iterations merged up to the kept step, not all four.
    expect(r.adapter?.r).toBe(2 * (best.step / 3));
    expect(Math.abs((await valLossOf(r)) - best.loss)).toBeLessThan(1e-4);
  });

  it('off: the returned weights are the last ones', async () => {
    const r = await run({ ...BASE, method: 'lora' });
    const evals = evalsOf(r);
    expect(r.kept).toBeNull();
    expect(Math.abs((await valLossOf(r)) - evals[evals.length - 1].loss)).toBeLessThan(1e-4);
  });
});

describe('early stop', () => {
  it('ends a run whose validation loss rises after `patience` evaluations without improvement', async () => {
    const patience = 2;
    const r = await run({ ...BASE, method: 'lora', maxSteps: 40, earlyStopPatience: patience, keepBest: true });
    const evals = evalsOf(r);
    const best = argmin(evals);
    expect(r.earlyStoppedAt).not.toBeNull();
    expect(r.steps).toBeLessThan(40);
    expect(r.steps).toBe(r.earlyStoppedAt);
    // Exactly `patience` evaluations after the best, none of them better, and the last is worse.
    expect(evals[evals.length - 1].step).toBe(r.steps);
    expect(evals.filter((e) => e.step > best.step).length).toBe(patience);
    expect(evals[evals.length - 1].loss).toBeGreaterThan(best.loss);
    expect(r.kept?.step).toBe(best.step);
  });

  it('a threshold makes small improvements count as none', async () => {
    const loose = await run({ ...BASE, method: 'lora', maxSteps: 40, earlyStopPatience: 2 });
    const strict = await run({ ...BASE, method: 'lora', maxSteps: 40, earlyStopPatience: 2, earlyStopThreshold: 10 });
    // With a threshold no improvement can beat, the run stops after the first evaluation + patience.
    expect(strict.steps).toBe(3);
    expect(loose.steps).toBeGreaterThanOrEqual(strict.steps);
  });
});

describe('keep-best and early stop with checkpoints', () => {
  it('a run killed after the best was kept resumes bit-identical to the uninterrupted run', async () => {
    const partial: Partial<TrainingConfig> = { ...BASE, method: 'lorasc', iterationSteps: 3, keepBest: true, earlyStopPatience: 3, maxSteps: 30, checkpointEvery: 2 };
    const whole = await run(partial);
    expect(whole.kept).not.toBeNull();
    const stopAt = (whole.kept?.step ?? 0) + 2;
    const store = new MemoryStore();
    const killed = await run(partial, { store, stopAt });
    expect(killed.stopped).toBe(true);
    const ck = await loadLatestCheckpoint(store);
    expect(ck?.state.keepBest?.best?.step).toBe(whole.kept?.step);
    const resumed = await run(partial, { store, resume: ck?.state });
    expect(resumed.steps).toBe(whole.steps);
    expect(resumed.earlyStoppedAt).toBe(whole.earlyStoppedAt);
    expect(resumed.kept).toEqual(whole.kept);
    expect(resumed.history).toEqual(whole.history);
    for (const [k, w] of whole.merged) expectBits(resumed.merged.get(k) as Float32Array, w, `merged ${k}`);
  });
});
