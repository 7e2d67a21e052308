// Learning-rate schedules against HF transformers' optimization.py, evaluated by hand.
// The LambdaLR multipliers (current_step = the 0-based optimizer step):
//   _get_constant_schedule_with_warmup_lr_lambda:
//     if current_step < num_warmup_steps: return float(current_step) / float(max(1.0, num_warmup_steps))
//     return 1.0
//   _get_linear_schedule_with_warmup_lr_lambda:
//     if current_step < num_warmup_steps: return float(current_step) / float(max(1, num_warmup_steps))
//     return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))
//   _get_cosine_schedule_with_warmup_lr_lambda (num_cycles = 0.5):
//     if current_step < num_warmup_steps: return float(current_step) / float(max(1, num_warmup_steps))
//     progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
//     return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))
//   _get_cosine_with_min_lr_schedule_with_warmup_lr_lambda: the cosine factor, then
//     factor = factor * (1 - min_lr_rate) + min_lr_rate; return max(0, factor)
//   TrainingArguments.get_warmup_steps:
//     warmup_steps if warmup_steps > 0 else math.ceil(num_training_steps * warmup_ratio)
// The decimals below are those formulas run in Python 3 (math.cos), quoted to 16–17 digits.
import { describe, expect, it } from 'vitest';
import { type ScheduleConfig, learningRate, warmupStepsOf } from '../../src/train/schedule';

const TOTAL = 10, WARMUP = 3; // decay length max(1, 10 − 3) = 7
const lambdas = (c: ScheduleConfig) => Array.from({ length: c.totalSteps }, (_, s) => learningRate(1, s, c));
const EXACT = 1e-15; // the same few IEEE operations as Python: agreement to the last bit or two

function expectCloseEach(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `step ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(EXACT));
}

describe('learningRate', () => {
  it('constant with warm-up: 0, 1/3, 2/3, then 1 from the warm-up boundary to the last step', () => {
    const c: ScheduleConfig = { kind: 'constant', warmupSteps: WARMUP, totalSteps: TOTAL };
    expectCloseEach(lambdas(c), [0, 1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('linear with warm-up: λ(3) = 7/7 = 1 at the boundary, λ(9) = (10 − 9)/7 = 1/7 at the last step', () => {
    const c: ScheduleConfig = { kind: 'linear', warmupSteps: WARMUP, totalSteps: TOTAL };
    expectCloseEach(lambdas(c), [0, 1 / 3, 2 / 3, 7 / 7, 6 / 7, 5 / 7, 4 / 7, 3 / 7, 2 / 7, 1 / 7]);
  });

  it('cosine with warm-up: progress (s − 3)/7; λ(3) = 1, λ(6) = ½(1 + cos 3π/7), λ(9) = ½(1 + cos 6π/7)', () => {
    const c: ScheduleConfig = { kind: 'cosine', warmupSteps: WARMUP, totalSteps: TOTAL };
    const got = lambdas(c);
    expectCloseEach(got.slice(0, 4), [0, 1 / 3, 2 / 3, 1]);
    expect(Math.abs(got[4] - 0.9504844339512095)).toBeLessThanOrEqual(EXACT); // progress 1/7
    expect(Math.abs(got[6] - 0.6112604669781572)).toBeLessThanOrEqual(EXACT); // progress 3/7
    expect(Math.abs(got[9] - 0.04951556604879048)).toBeLessThanOrEqual(EXACT); // progress 6/7, the last step
    for (let s = 4; s < TOTAL; s++) expect(got[s]).toBeLessThan(got[s - 1]);
  });

  it('cosine with min_lr_rate 0.1: λ(9) = 0.04951556604879048·0.9 + 0.1; warm-up untouched', () => {
    const c: ScheduleConfig = { kind: 'cosine', warmupSteps: WARMUP, totalSteps: TOTAL, minLrRatio: 0.1 };
    const got = lambdas(c);
    expectCloseEach(got.slice(0, 4), [0, 1 / 3, 2 / 3, 1]);
    expect(Math.abs(got[9] - 0.14456400944391146)).toBeLessThanOrEqual(EXACT);
  });

  it('linear with a floor uses the same map: λ(9) = (1/7)·0.9 + 0.1', () => {
    const c: ScheduleConfig = { kind: 'linear', warmupSteps: WARMUP, totalSteps: TOTAL, minLrRatio: 0.1 };
    expect(Math.abs(learningRate(1, 9, c) - ((1 / 7) * 0.9 + 0.1))).toBeLessThanOrEqual(EXACT);
  });

  it('the lr of a step is baseLr·λ(step)', () => {
    const c: ScheduleConfig = { kind: 'linear', warmupSteps: WARMUP, totalSteps: TOTAL };
    expect(learningRate(2e-4, 1, c)).toBe(2e-4 * (1 / 3));
    expect(learningRate(2e-4, 9, c)).toBe(2e-4 * (1 / 7));
  });

  it('no warm-up: every kind starts at baseLr (max(1, 0) guards the division)', () => {
    for (const kind of ['constant', 'linear', 'cosine'] as const) {
      expect(learningRate(5e-4, 0, { kind, totalSteps: TOTAL })).toBe(5e-4);
      expect(learningRate(5e-4, 0, { kind, warmupSteps: 0, warmupRatio: 0, totalSteps: TOTAL })).toBe(5e-4);
    }
    // linear: λ(9) = (10 − 9)/max(1, 10) = 1/10
    expect(learningRate(1, 9, { kind: 'linear', totalSteps: TOTAL })).toBe(1 / 10);
  });

  it('warm-up over the whole run stays in warm-up: λ(s) = s/total', () => {
    const c: ScheduleConfig = { kind: 'cosine', warmupSteps: 4, totalSteps: 4 };
    expectCloseEach(lambdas(c), [0, 1 / 4, 2 / 4, 3 / 4]);
  });

  it('a single-step run', () => {
    expect(learningRate(1, 0, { kind: 'cosine', totalSteps: 1 })).toBe(1);
  });
});

describe('warmupStepsOf (HF get_warmup_steps)', () => {
  it('ceil(total·ratio) in IEEE order: 100·0.07 = 7.000000000000001 → 8, 1000·0.05 → 50', () => {
    expect(warmupStepsOf({ kind: 'cosine', warmupRatio: 0.07, totalSteps: 100 })).toBe(8);
    expect(warmupStepsOf({ kind: 'cosine', warmupRatio: 0.05, totalSteps: 1000 })).toBe(50);
    expect(warmupStepsOf({ kind: 'cosine', warmupSteps: 12, totalSteps: 1000 })).toBe(12);
    expect(warmupStepsOf({ kind: 'cosine', totalSteps: 1000 })).toBe(0);
  });

  it('warmupRatio drives learningRate: with 8 warm-up steps λ(7) = 7/8 and λ(8) = 1', () => {
    const c: ScheduleConfig = { kind: 'cosine', warmupRatio: 0.07, totalSteps: 100 };
    expect(learningRate(1, 7, c)).toBe(7 / 8);
    expect(learningRate(1, 8, c)).toBe(1);
  });
});

describe('validation', () => {
  const ok: ScheduleConfig = { kind: 'cosine', warmupSteps: WARMUP, totalSteps: TOTAL };
  it.each([
    ['step past the end', () => learningRate(1, TOTAL, ok), /step=10 outside \[0, totalSteps=10\)/],
    ['negative step', () => learningRate(1, -1, ok), /step=-1/],
    ['fractional step', () => learningRate(1, 1.5, ok), /step=1.5/],
    ['negative baseLr', () => learningRate(-1, 0, ok), /baseLr=-1/],
    ['NaN baseLr', () => learningRate(NaN, 0, ok), /baseLr=NaN/],
    ['unknown kind', () => learningRate(1, 0, { ...ok, kind: 'step' as never }), /kind='step'/],
    ['zero totalSteps', () => learningRate(1, 0, { ...ok, totalSteps: 0 }), /totalSteps=0/],
    ['warm-up longer than the run', () => learningRate(1, 0, { ...ok, warmupSteps: 11 }), /warmupSteps=11/],
    ['ratio above 1', () => learningRate(1, 0, { kind: 'linear', warmupRatio: 1.5, totalSteps: TOTAL }), /warmupRatio=1.5/],
    ['both warm-up settings', () => learningRate(1, 0, { ...ok, warmupRatio: 0.1 }), /not both/],
    ['floor above 1', () => learningRate(1, 0, { ...ok, minLrRatio: 2 }), /minLrRatio=2/],
  ])('rejects %s', (_, call, message) => {
    expect(call).toThrow(message);
  });
});
