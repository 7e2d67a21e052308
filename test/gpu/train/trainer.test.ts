// What the trainer itself decides, checked on the tiny GPT-2 with the real engine: a cascade starts every
// iteration with a fresh optimizer for its expert; DoRA trains end to end and as a cascade, and its
// merged weights are the model it trained; rsLoRA's scale α/√r is the one the engine trains with and the
// merge uses; restartSchedule restarts the lr schedule in every COLA link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import { mergeDelta } from '../../../src/io/export';
import type { OptimizerState } from '../../../src/model/api';
import { resolveConfig, type TrainingConfig } from '../../../src/train/config';
import type { LmExample, TaskData } from '../../../src/train/data';
import { createEngine, createPlainEngine, engineOptions } from '../../../src/train/engine';
import { loraKeys, targetedModules } from '../../../src/train/modules';
import { learningRate } from '../../../src/train/schedule';
import { type TrainEvent, train } from '../../../src/train/trainer';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { maxAbsDiff, recording, runTraining, stepLosses, toyLm } from './helpers';

const B = 4, T = 8, R = 4;
/** 8 training sequences: 2 steps per epoch, so a per-epoch cascade iteration is 2 steps. */
const COMMON: Partial<TrainingConfig> = {
  targetModules: ['c_attn', 'c_fc'], r: R, loraAlpha: 8, lr: 2e-2, schedule: 'constant', warmupRatio: 0,
  epochs: 3, batchSize: B, seqLen: T, seed: 11, loraDropout: 0,
};

let ctx: GpuContext;
let gpt2: LoadedGpt2;
let data: TaskData<LmExample, Uint32Array>;
let sample: Uint32Array;

beforeAll(async () => {
  ctx = await testContext();
  gpt2 = (await loadFixture('gpt2_tiny', 'gpt2')).loaded;
  data = toyLm(T, 8, 4, 3);
  sample = data.collate(data.val.slice(0, B), B).input;
});

afterAll(() => undefined);

/** The logits of a plain engine holding `merged` (module path → weight) with no adapter effect. */
async function mergedLogits(merged: ReadonlyMap<string, Float32Array>): Promise<Float32Array> {
  const e = await createPlainEngine(ctx, gpt2, { B, T }, merged);
  try {
    return await e.forwardLogits(sample);
  } finally {
    e.destroy();
  }
}

const allZero = (m: ReadonlyMap<string, Float32Array>) => [...m.values()].every((x) => x.every((v) => v === 0));

describe('cascade: a fresh optimizer per iteration', () => {
  it('the expert\'s AdamW moments and step count are zero at the first update of every iteration, and live within one', async () => {
    const config = resolveConfig({ ...COMMON, method: 'cola' });
    const targets = targetedModules(gpt2, config.targetModules);
    const engine = await createEngine(ctx, gpt2, engineOptions(config, targets, T));
    try {
      const { model } = recording(engine);
      const before: OptimizerState[] = [];
      const inner = model.adamwStep;
      model.adamwStep = async (lr, o) => {
        before.push(await engine.readOptimizerState());
        return inner(lr, o);
      };
      const result = await train({ model, loaded: gpt2, data, config, targets });
      expect(result.iterations.length).toBe(3);
      expect(before.length).toBe(6);
      for (const k of [0, 2, 4]) {
        expect(before[k].step, `AdamW step count before update ${k + 1}`).toBe(0);
        expect(allZero(before[k].m) && allZero(before[k].v), `moments before update ${k + 1} (first of iteration ${k / 2 + 1})`).toBe(true);
      }
      for (const k of [1, 3, 5]) {
        expect(before[k].step, `AdamW step count before update ${k + 1}`).toBe(1);
        expect(allZero(before[k].v), `second moments before update ${k + 1}`).toBe(false);
      }
    } finally {
      engine.destroy();
    }
  });
});

describe('DoRA in the trainer', () => {
  it('a DoRA run trains its magnitudes, lowers the loss, and its merged weights are the model it trained (≤ 1e-4)', async () => {
    const run = await runTraining(ctx, gpt2, data, { ...COMMON, method: 'dora', epochs: 2 });
    try {
      expect(run.config.useDora).toBe(true);
      const losses = stepLosses(run.result);
      expect(losses.length).toBe(4);
      expect(losses[3]).toBeLessThan(losses[0]);
      const a = run.result.adapter!;
      expect(a.useDora).toBe(true);
      for (const m of run.targets) {
        const mag = a.tensors.get(loraKeys(m.path).m);
        expect(mag?.shape, `${m.path} magnitude`).toEqual([m.OUT]);
      }
      const adapted = await run.engine.forwardLogits(sample);
      expect(maxAbsDiff(await mergedLogits(run.result.merged), adapted)).toBeLessThanOrEqual(1e-4);
    } finally {
      run.engine.destroy();
    }
  });

  it('a DoRA cascade (LoRASC + useDora) merges every iteration and exports merged only; the engine ends as the merged model', async () => {
    const run = await runTraining(ctx, gpt2, data, { ...COMMON, method: 'lorasc', useDora: true, epochs: 2 });
    try {
      expect(run.result.iterations.length).toBe(2);
      expect(run.result.adapter).toBeNull();
      expect(run.result.adapterNote).toMatch(/DoRA cascade/);
      for (const m of run.targets) expect(maxAbsDiff(run.result.merged.get(m.path)!, gpt2.tensors.get(m.weight)!.data), `${m.path} moved`).toBeGreaterThan(0);
      const losses = stepLosses(run.result);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
      // After the last merge the engine holds the merged backbone and a fresh expert (B = 0, m = ‖W‖_row): a no-op.
      const after = await run.engine.forwardLogits(sample);
      expect(maxAbsDiff(await mergedLogits(run.result.merged), after)).toBeLessThanOrEqual(1e-4);
    } finally {
      run.engine.destroy();
    }
  });
});

describe('rsLoRA in the trainer', () => {
  it('trains and merges with s = α/√r: merged = W0 + (α/√r)·B·A, and the merged model is the trained one', async () => {
    const rs = await runTraining(ctx, gpt2, data, { ...COMMON, method: 'lora', useRslora: true, epochs: 1 });
    const plain = await runTraining(ctx, gpt2, data, { ...COMMON, method: 'lora', epochs: 1 });
    try {
      const s = 8 / Math.sqrt(R);
      expect(rs.result.adapter!.scale).toBe(s);
      expect(plain.result.adapter!.scale).toBe(8 / R);
      expect(rs.result.adapter!.useRslora).toBe(true);
      for (const m of rs.targets) {
        const k = loraKeys(m.path);
        const want = mergeDelta(gpt2.tensors.get(m.weight)!.data, m.layout, m.IN, m.OUT, rs.result.adapter!.tensors.get(k.B)!.data, rs.result.adapter!.tensors.get(k.A)!.data, R, s);
        expect(maxAbsDiff(rs.result.merged.get(m.path)!, want), m.path).toBeLessThanOrEqual(1e-6);
      }
      expect(maxAbsDiff(await mergedLogits(rs.result.merged), await rs.engine.forwardLogits(sample))).toBeLessThanOrEqual(1e-4);
      // The scale is live: the same seed and data train on another path at α/r.
      expect(stepLosses(rs.result)[1]).not.toBe(stepLosses(plain.result)[1]);
    } finally {
      rs.engine.destroy();
      plain.engine.destroy();
    }
  });
});

describe('restartSchedule', () => {
  const lrs = (events: TrainEvent[]) => events.flatMap((e) => (e.type === 'step' ? [e.lr] : []));

  it('COLA with restartSchedule runs the schedule again in every link; without it one global schedule', async () => {
    const schedule = { schedule: 'linear' as const, warmupRatio: 0, epochs: 3 };
    const restart = await runTraining(ctx, gpt2, data, { ...COMMON, ...schedule, method: 'cola', restartSchedule: true });
    const global = await runTraining(ctx, gpt2, data, { ...COMMON, ...schedule, method: 'cola' });
    try {
      const lr = 2e-2;
      const perLink = [0, 1, 0, 1, 0, 1].map((k) => learningRate(lr, k, { kind: 'linear', warmupRatio: 0, totalSteps: 2 }));
      const once = [0, 1, 2, 3, 4, 5].map((k) => learningRate(lr, k, { kind: 'linear', warmupRatio: 0, totalSteps: 6 }));
      expect(lrs(restart.rec.events)).toEqual(perLink);
      expect(lrs(global.rec.events)).toEqual(once);
      // Every link starts at the peak lr again.
      expect(lrs(restart.rec.events).filter((_, k) => k % 2 === 0)).toEqual([lr, lr, lr]);
    } finally {
      restart.engine.destroy();
      global.engine.destroy();
    }
  });
});
