// Learning-rate schedules: ONE global schedule over every optimizer step of a run, across all cascade
// iterations (docs/method.md#schedule, COLA: "one global schedule over all steps"). Pure functions of the step,
// matching HF transformers' LambdaLR multipliers exactly, so that the lr of optimizer step `step`
// (0-based) is baseLr·λ(step), as after `step` calls of scheduler.step() in HF's Trainer:
//   warm-up (all kinds)   λ = step / max(1, warmup)                              for step < warmup
//   constant              λ = 1
//   linear                λ = max(0, (total − step) / max(1, total − warmup))
//   cosine (cycles = ½)   λ = max(0, 0.5·(1 + cos(π·2·cycles·progress))),  progress = (step − warmup) / max(1, total − warmup)
// minLrRatio m (HF's min_lr_rate of get_cosine_with_min_lr_schedule_with_warmup) maps the decay
// factor f to f·(1 − m) + m after warm-up; m = 0 gives the plain schedules. For linear the same map
// is applied (HF has no linear-with-floor); constant has no decay for it to act on.

export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleConfig {
  kind: ScheduleKind;
  warmupSteps?: number; // HF warmup_steps; takes the place of warmupRatio
  warmupRatio?: number; // HF warmup_ratio: warm-up = ceil(ratio·totalSteps)
  totalSteps: number; // every optimizer step of the run, all cascade iterations together
  minLrRatio?: number; // floor of the decay as a fraction of baseLr, in [0, 1]; default 0
}

const NUM_CYCLES = 0.5; // HF default: half a cosine period, 1 → 0 over the decay

/** Warm-up length as HF's TrainingArguments.get_warmup_steps: warmup_steps if > 0, else
 *  ceil(total·ratio) in the same floating-point order (so 0.07·100 → 8, as in Python). */
export function warmupStepsOf(c: ScheduleConfig): number {
  checkConfig(c);
  if ((c.warmupSteps ?? 0) > 0) return c.warmupSteps as number;
  return Math.ceil(c.totalSteps * (c.warmupRatio ?? 0));
}

export function learningRate(baseLr: number, step: number, c: ScheduleConfig): number {
  if (!Number.isFinite(baseLr) || baseLr < 0) throw new RangeError(`learningRate: baseLr=${baseLr} must be finite and ≥ 0`);
  const warmup = warmupStepsOf(c);
  if (!Number.isInteger(step) || step < 0 || step >= c.totalSteps) {
    // Past the end the cosine would climb again: a caller asking for it has miscounted its steps.
    throw new RangeError(`learningRate: step=${step} outside [0, totalSteps=${c.totalSteps})`);
  }
  return baseLr * lambda(step, warmup, c);
}

function lambda(step: number, warmup: number, c: ScheduleConfig): number {
  if (step < warmup) return step / Math.max(1, warmup);
  if (c.kind === 'constant') return 1;
  const m = c.minLrRatio ?? 0;
  const decay = Math.max(1, c.totalSteps - warmup);
  if (c.kind === 'linear') return Math.max(0, ((c.totalSteps - step) / decay) * (1 - m) + m);
  const progress = (step - warmup) / decay;
  const f = 0.5 * (1 + Math.cos(Math.PI * NUM_CYCLES * 2 * progress));
  return Math.max(0, f * (1 - m) + m);
}

function checkConfig(c: ScheduleConfig): void {
  if (c.kind !== 'constant' && c.kind !== 'linear' && c.kind !== 'cosine') {
    throw new RangeError(`schedule: kind='${String(c.kind)}' is not one of constant, linear, cosine`);
  }
  if (!Number.isInteger(c.totalSteps) || c.totalSteps < 1) {
    throw new RangeError(`schedule: totalSteps=${c.totalSteps} must be an integer ≥ 1`);
  }
  const { warmupSteps, warmupRatio, minLrRatio } = c;
  if (warmupSteps !== undefined && (!Number.isInteger(warmupSteps) || warmupSteps < 0 || warmupSteps > c.totalSteps)) {
    throw new RangeError(`schedule: warmupSteps=${warmupSteps} must be an integer in [0, totalSteps=${c.totalSteps}]`);
  }
  if (warmupRatio !== undefined && !(warmupRatio >= 0 && warmupRatio <= 1)) {
    throw new RangeError(`schedule: warmupRatio=${warmupRatio} must be in [0, 1]`);
  }
  if ((warmupSteps ?? 0) > 0 && (warmupRatio ?? 0) > 0) {
    // HF lets warmup_steps silently win; two disagreeing settings are more likely a config mistake.
    throw new RangeError(`schedule: give warmupSteps=${warmupSteps} or warmupRatio=${warmupRatio}, not both`);
  }
  if (minLrRatio !== undefined && !(minLrRatio >= 0 && minLrRatio <= 1)) {
    throw new RangeError(`schedule: minLrRatio=${minLrRatio} must be in [0, 1]`);
  }
}
