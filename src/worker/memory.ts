// Will this run fit? The studio's view of the memory plan (src/train/memoryPlan.ts), made before anything
// is allocated: the exact bytes by category, the largest buffer against the device's binding limit, and
// when it does not fit, one line naming what to change (recomputation, batch, sequence length, rank).
import type { LoadedModel } from '../io/hfModel';
import type { TrainingConfig } from '../train/config';
import { type PlanLimits, checkFit, planMemory, planOptions } from '../train/memoryPlan';
import type { MemoryEstimate } from './protocol';

export function estimateMemory(loaded: LoadedModel, c: TrainingConfig, limits: PlanLimits, budget?: number): Omit<MemoryEstimate, 'size'> {
  const o = planOptions(loaded, c);
  const plan = planMemory(loaded, o, limits);
  const fit = checkFit(loaded, o, limits, budget);
  return {
    bytes: plan.total, largestBuffer: plan.largestBuffer, limitBuffer: limits.maxBufferSize, limitBinding: limits.maxStorageBufferBindingSize,
    fits: fit.fits, ...(fit.why ? { why: fit.why } : {}),
    plan: { bytes: plan.bytes, activationsOther: plan.activationsOther, recompute: c.recompute },
  };
}
