// Gradient accumulation: k micro-batches of B rows per optimizer step train like one batch of k·B rows
// (every row of the toy task has the same number of targets, so the mean of the micro-batch means is
// the mean over all rows). Dropout off: its masks depend on the batch shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import type { TrainingConfig } from '../../../src/train/config';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { GPT2_TARGETS, maxAbsDiff, runTraining, stepLosses, toyLm } from './helpers';

const T = 16;
const COMMON: Partial<TrainingConfig> = {
  method: 'lora', targetModules: GPT2_TARGETS, r: 4, loraAlpha: 8, lr: 1e-2, schedule: 'constant', warmupRatio: 0,
  epochs: 1, seqLen: T, seed: 3, loraDropout: 0, maxGradNorm: 0,
};

let ctx: GpuContext;
let gpt2: LoadedGpt2;

beforeAll(async () => {
  ctx = await testContext();
  gpt2 = (await loadFixture('gpt2_tiny', 'gpt2')).loaded;
});
afterAll(() => undefined);

describe('gradient accumulation', () => {
  it('2 micro-batches of 2 rows per step train like batches of 4 rows', async () => {
    const data = toyLm(T, 12, 4, 11);
    const accum = await runTraining(ctx, gpt2, data, { ...COMMON, batchSize: 2, gradAccum: 2 });
    const whole = await runTraining(ctx, gpt2, data, { ...COMMON, batchSize: 4, gradAccum: 1 });
    try {
      expect(accum.result.steps).toBe(3);
      expect(whole.result.steps).toBe(3);
      const a = stepLosses(accum.result), w = stepLosses(whole.result);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - w[i])).toBeLessThan(1e-5);
      const wa = await accum.engine.readLoraWeights(), ww = await whole.engine.readLoraWeights();
      for (const [name, v] of ww) {
        // F32 sums in another order: agreement to a few ulp of the weights, far below one lr step (1e-2).
        expect(maxAbsDiff(wa.get(name) as Float32Array, v), name).toBeLessThan(1e-5);
      }
      // And accumulation is not a no-op: with one micro-batch per step the weights differ.
      const single = await runTraining(ctx, gpt2, data, { ...COMMON, batchSize: 2, gradAccum: 1, maxSteps: 3 });
      const ws = await single.engine.readLoraWeights();
      expect(Math.max(...[...ww].map(([n, v]) => maxAbsDiff(ws.get(n) as Float32Array, v)))).toBeGreaterThan(1e-3);
      single.engine.destroy();
    } finally {
      accum.engine.destroy();
      whole.engine.destroy();
    }
  });
});
