// What the two training-step benches (bench/train.ts GPT-2, bench/llama.ts Llama) do alike: the one
// batch every step reuses, and the timing of a step of the engine against the same step in tfjs.
import * as tf from '@tensorflow/tfjs-core';
import type { GpuContext } from '../src/gpu/context';
import { seededUniform } from '../src/ref/seeded';

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The same batch for every step: random ids, random next-token labels (none ignored). */
export function randomBatch(c: { B: number; T: number; V: number }, seed: number): { ids: Uint32Array; labels: Int32Array } {
  const n = c.B * c.T;
  const u = seededUniform(2 * n, seed);
  const ids = new Uint32Array(n), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = Math.min(c.V - 1, Math.floor(((u[i] + 1) / 2) * c.V));
    labels[i] = Math.min(c.V - 1, Math.floor(((u[n + i] + 1) / 2) * c.V));
  }
  return { ids, labels };
}

export interface StepTimes {
  /** Per rep: [engine ms], [tfjs ms], interleaved rep by rep (load on a shared machine then hits both alike). */
  times: [number[], number[]];
  engineMs: number; // medians
  tfjsMs: number;
  /** tf.profile of tfjs's warm-up step: the kernels tfjs runs per step (without timestamp-query it cannot time them). */
  info: Awaited<ReturnType<typeof tf.profile>>;
}

/**
 * Times `reps` training steps of both: the engine's step (submit + loss readback), its AdamW (a second
 * submit) and a wait for the update too, as tfjs's readback does; tfjs's `step` whole. One warm-up each
 * first (AdamW pipelines, tfjs's backward/Adam shaders compile there). Names a tfjs tensor leak in `log`.
 */
export async function timeSteps(
  ctx: GpuContext, name: string,
  model: { step(ids: Uint32Array, labels: Int32Array): Promise<unknown>; adamwStep(lr: number): Promise<unknown> },
  batch: { ids: Uint32Array; labels: Int32Array }, lr: number, tfStep: () => Promise<unknown>, reps: number, log: (s: string) => void,
): Promise<StepTimes> {
  const engine = async () => {
    const t0 = performance.now();
    await model.step(batch.ids, batch.labels);
    await model.adamwStep(lr);
    await ctx.finish();
    return performance.now() - t0;
  };
  const tfjs = async () => {
    const t0 = performance.now();
    await tfStep();
    return performance.now() - t0;
  };
  await model.adamwStep(lr);
  await engine();
  // tfjs's warm-up step (its first Adam update), profiled; the error check would read back every output.
  const check = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const info = await tf.profile(async () => { await tfStep(); });
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', check);
  const tensorsBefore = tf.memory().numTensors;
  const times: [number[], number[]] = [[], []];
  for (let r = 0; r < reps; r++) {
    times[0].push(await engine());
    times[1].push(await tfjs());
  }
  if (tf.memory().numTensors !== tensorsBefore) log(`${name}: tfjs tensors ${tensorsBefore} → ${tf.memory().numTensors} over the timed steps (leak)`);
  return { times, engineMs: median(times[0]), tfjsMs: median(times[1]), info };
}
