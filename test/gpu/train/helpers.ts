// Shared pieces of the trainer's GPU tests: a learnable toy LM task and a toy image task built in the
// test, an engine wrapper that records what the trainer does to it (setBaseWeight calls, the expert
// weights it reads), a run helper, and bit-level comparisons.
import { expect } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2, LoadedModel, LoadedVit } from '../../../src/io/hfModel';
import { type TrainingConfig, resolveConfig } from '../../../src/train/config';
import { type ImageExample, type LmExample, type TaskData, imageTaskData, lmTaskData } from '../../../src/train/data';
import { type AnyEngine, createEngine, engineOptions } from '../../../src/train/engine';
import { type LinearModule, targetedModules } from '../../../src/train/modules';
import { type EngineModel, type TrainEvent, type TrainResult, train } from '../../../src/train/trainer';
import { mulberry32 } from '../../helpers/random';

/** Every GPT-2 linear module type: c_proj matches both attn.c_proj and mlp.c_proj. */
export const GPT2_TARGETS = ['c_attn', 'c_proj', 'c_fc'];
export const VIT_TARGETS = ['query', 'value'];

/**
 * A next-token task a tiny GPT-2 learns in a few steps: every sequence walks one of two fixed cycles
 * of tokens (period 5 and 7) from a random start, so the next token is a function of the current one.
 * Labels are the already-shifted next tokens (the engine's convention); all T of them are trained.
 */
export function toyLm(T: number, nTrain: number, nVal: number, seed: number): TaskData<LmExample, Uint32Array> {
  const cycles = [[17, 42, 73, 5, 88], [3, 61, 29, 94, 50, 11, 36]];
  const rnd = mulberry32(seed);
  const make = (): LmExample => {
    const cyc = cycles[Math.floor(rnd() * cycles.length)];
    const start = Math.floor(rnd() * cyc.length);
    const seq = Array.from({ length: T + 1 }, (_, i) => cyc[(start + i) % cyc.length]);
    return { ids: Uint32Array.from(seq.slice(0, T)), labels: Int32Array.from(seq.slice(1)) };
  };
  const train = Array.from({ length: nTrain }, make);
  const val = Array.from({ length: nVal }, make);
  return lmTaskData(train, val, T);
}

/** A K-class image task for the tiny ViT: a fixed random prototype per class plus small noise. */
export function toyImages(loaded: LoadedVit, nTrain: number, nVal: number, seed: number): TaskData<ImageExample, Float32Array> {
  const c = loaded.config;
  const P = c.num_channels * c.image_size[0] * c.image_size[1];
  const K = loaded.head.numClasses;
  const rnd = mulberry32(seed);
  const protos = Array.from({ length: K }, () => Float32Array.from({ length: P }, () => 2 * rnd() - 1));
  const make = (i: number): ImageExample => {
    const label = i % K;
    return { label, pixels: protos[label].map((v) => v + 0.3 * (2 * rnd() - 1)) };
  };
  return imageTaskData(Array.from({ length: nTrain }, (_, i) => make(i)), Array.from({ length: nVal }, (_, i) => make(i + 1)), P);
}

/** What the trainer did to the engine. */
export interface Recording {
  /** Every setBaseWeight call, in order (the weights copied). */
  baseSets: { path: string; w: Float32Array }[];
  /** The expert each finished cascade iteration merged: the LoRA weights read last before its event. */
  experts: Map<string, Float32Array>[];
  events: TrainEvent[];
  /** The weights of every setLoraWeights call (rollbacks). */
  loraSets: Map<string, Float32Array>[];
  /** The trainable weights the first step() call found in the model. */
  atFirstStep: Map<string, Float32Array> | null;
}

/** The engine with its calls recorded; `hooks.step` may replace a step's result (NaN injection). */
export function recording<I>(inner: EngineModel<I>, hooks: { step?: (k: number) => { loss: number } | null } = {}) {
  const rec: Recording = { baseSets: [], experts: [], events: [], loraSets: [], atFirstStep: null };
  let lastRead: Map<string, Float32Array> | null = null;
  let steps = 0;
  const model: EngineModel<I> = {
    trainableEntries: () => inner.trainableEntries(),
    setBaseWeight: (path, w) => {
      rec.baseSets.push({ path, w: w.slice() });
      inner.setBaseWeight(path, w);
    },
    evalLoss: (input, labels) => inner.evalLoss(input, labels),
    step: async (input, labels) => {
      if (steps === 0) rec.atFirstStep = await inner.readLoraWeights();
      const replaced = hooks.step?.(steps++) ?? null;
      return replaced ?? inner.step(input, labels);
    },
    adamwStep: (lr, o) => inner.adamwStep(lr, o),
    gradNorm: () => inner.gradNorm(),
    scaleGrads: (f) => inner.scaleGrads(f),
    nonFiniteGrads: () => inner.nonFiniteGrads(),
    readGrads: () => inner.readGrads(),
    writeGrads: (g) => inner.writeGrads(g),
    readLoraWeights: async () => {
      lastRead = await inner.readLoraWeights();
      return lastRead;
    },
    setLoraWeights: (v) => {
      rec.loraSets.push(new Map([...v].map(([k, x]) => [k, x.slice()])));
      inner.setLoraWeights(v);
    },
    initLora: (seed) => inner.initLora(seed),
    resetOptimizer: () => inner.resetOptimizer(),
    readOptimizerState: () => inner.readOptimizerState(),
    setOptimizerState: (st) => inner.setOptimizerState(st),
    destroy: () => inner.destroy(),
    forwardLogits: (input) => inner.forwardLogits(input),
  };
  const onEvent = (e: TrainEvent) => {
    rec.events.push(e);
    if (e.type === 'iteration' && lastRead) rec.experts.push(lastRead);
  };
  return { model, rec, onEvent };
}

export interface Run<E, I> {
  result: TrainResult;
  rec: Recording;
  config: TrainingConfig;
  targets: LinearModule[];
  /** The engine the run trained (the caller destroys it). */
  engine: EngineModel<I>;
  data: TaskData<E, I>;
}

/** One engine built as the CLI builds it (src/cli/page/training.ts), trained with `partial` (default LoRA dropout included). */
export async function runTraining<E, I>(
  ctx: GpuContext, loaded: LoadedModel, data: TaskData<E, I>, partial: Partial<TrainingConfig>,
  hooks: { step?: (k: number) => { loss: number } | null } = {},
): Promise<Run<E, I>> {
  const config = resolveConfig(partial);
  const targets = targetedModules(loaded, config.targetModules);
  const engine = await createEngine(ctx, loaded, engineOptions(config, targets, config.seqLen)) as unknown as EngineModel<I>;
  const { model, rec, onEvent } = recording(engine, hooks);
  const result = await train({ model, loaded, data, config, targets, onEvent });
  return { result, rec, config, targets, engine, data };
}

/**
 * A GPT-2 engine with the base weights as loaded and a no-op adapter (B = 0) on `targets`. Targeted
 * modules run the fused LoRA kernel, whose base product sums in another order than the plain matmul,
 * so logits are compared bit for bit only between engines with the same targets and rank.
 */
export async function gpt2Engine(ctx: GpuContext, loaded: LoadedGpt2, o: { B: number; T: number; targets?: string[]; r?: number }): Promise<AnyEngine> {
  const targets = targetedModules(loaded, o.targets ?? GPT2_TARGETS);
  const e = await createEngine(ctx, loaded, { targets, r: o.r ?? 4, scale: 2, useDora: false, B: o.B, T: o.T, seed: 0 });
  e.initLora(0);
  return e;
}

export const logitsOf = <I>(e: AnyEngine | EngineModel<I>, input: I) => (e.forwardLogits as (x: I) => Promise<Float32Array>)(input);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A NaN in a bit comparison is a bug, not a verdict: two runs that both went NaN are not "identical", and
 * a NaN weight is not "different" from its start. Both helpers below refuse it.
 */
function refuseNaN(a: Float32Array, what: string): void {
  const i = a.findIndex(Number.isNaN);
  if (i >= 0) expect.fail(`${what}: NaN at element ${i}`);
}

/** Bit-for-bit equality of two F32 arrays, naming the first differing element. */
export function expectBits(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  refuseNaN(a, what);
  refuseNaN(b, what);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const i = ua.findIndex((x, k) => x !== ub[k]);
  expect(i, `${what}: first differing element ${i}: ${a[i]} vs ${b[i]}`).toBe(-1);
}

export function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  refuseNaN(a, 'bitsEqual');
  refuseNaN(b, 'bitsEqual');
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((x, k) => x === ub[k]);
}

/** The losses of the step entries of a run's log_history. */
export const stepLosses = (r: TrainResult) => r.history.filter((h) => 'loss' in h).map((h) => h.loss);
