// Exact resume (docs/reliability.md#checkpoints-and-exact-resume) on the tiny fixtures with the real trainer and engines:
// a run killed at step k (TrainControl.shouldStop) and resumed in a fresh engine from the newest
// checkpoint of its store ends BIT-IDENTICAL to an uninterrupted run — history (losses, grad norms,
// lrs, evals), merged weights, the cascade's stacked adapter, rank reports, final LoRA weights and
// AdamW moments — for LoRA and LoRASC with LoRA dropout on. Kill points: mid-iteration, right after a
// cascade merge (the merge is replayed), right after the post-merge checkpoint, twice in a row, and
// during a checkpoint write (the torn folder is skipped, the previous checkpoint loads). The NaN guard:
// a poisoned gradient skips that step's update; K bad steps roll back to the last checkpoint (weights
// and moments) with the lr lowered; a poisoned weight is never checkpointed.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2, LoadedVit } from '../../../src/io/hfModel';
import { readSafetensors } from '../../../src/io/safetensors';
import { MemoryStore } from '../../../src/io/store';
import type { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { type TrainState, folderOf, loadLatestCheckpoint, readCheckpoint } from '../../../src/train/checkpoint';
import { type TrainingConfig, resolveConfig } from '../../../src/train/config';
import type { TaskData } from '../../../src/train/data';
import { createEngine, engineOptions } from '../../../src/train/engine';
import { targetedModules } from '../../../src/train/modules';
import { type EngineModel, type TrainEvent, type TrainResult, train } from '../../../src/train/trainer';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { expectBits, toyImages, toyLm } from './helpers';

const B = 4, T = 16;
/** 16 train examples → 4 steps per epoch, 3 epochs; cosine with warm-up, so the schedule position matters. */
const GPT2: Partial<TrainingConfig> = {
  targetModules: ['c_attn', 'c_fc'], r: 4, loraAlpha: 8, lr: 2e-2, schedule: 'cosine', warmupRatio: 0.1,
  epochs: 3, batchSize: B, seqLen: T, seed: 11, evalExamples: 4, loraDropout: 0.1,
};
/** LoRASC: one iteration per epoch (4 steps), noise and slow-fast on; checkpoints every 3 steps and at each iteration start: 0 3 4 6 8 9 12. */
const LORASC: Partial<TrainingConfig> = { ...GPT2, method: 'lorasc', checkpointEvery: 3 };
/** LoRA: the default checkpoint interval, one epoch: 0 4 8 12. */
const LORA: Partial<TrainingConfig> = { ...GPT2, method: 'lora' };

let ctx: GpuContext;
let gpt2: LoadedGpt2;
let vit: LoadedVit;
let lm: TaskData<unknown, unknown>;

beforeAll(async () => {
  ctx = await testContext();
  gpt2 = (await loadFixture('gpt2_tiny', 'gpt2')).loaded;
  vit = (await loadFixture('vit_tiny', 'vit')).loaded;
  lm = toyLm(T, 16, 8, 3) as TaskData<unknown, unknown>;
});

interface Outcome {
  result: TrainResult;
  weights: Map<string, Float32Array>;
  opt: Awaited<ReturnType<EngineModel<unknown>['readOptimizerState']>>;
  events: TrainEvent[];
  /** Engine calls this run actually made: forward/backward passes and optimizer updates. */
  executed: { steps: number; adamw: number };
}

/** The engine overriding some methods (fault injection), everything else bound to the engine. */
function wrap<M extends object>(target: M, overrides: Partial<M>): M {
  return new Proxy(target, {
    get: (t, k) => (k in overrides ? overrides[k as keyof M] : typeof t[k as keyof M] === 'function' ? (t[k as keyof M] as (...a: unknown[]) => unknown).bind(t) : t[k as keyof M]),
  });
}

interface RunOptions {
  store?: MemoryStore;
  /** Kill at the top of this step (before its checkpoint). */
  stopAt?: number;
  resume?: TrainState;
  /** Fault injection around the engine. */
  inject?: (engine: EngineModel<unknown>) => Partial<EngineModel<unknown>>;
  data?: TaskData<unknown, unknown>;
  loaded?: LoadedGpt2 | LoadedVit;
}

/** A fresh engine (as after a reload) built as the CLI builds it, trained once. */
async function run(partial: Partial<TrainingConfig>, o: RunOptions = {}): Promise<Outcome> {
  const loaded = o.loaded ?? gpt2;
  const config = resolveConfig(partial);
  const targets = targetedModules(loaded, config.targetModules);
  const engine = await createEngine(ctx, loaded, engineOptions(config, targets, config.seqLen)) as unknown as EngineModel<unknown>;
  const events: TrainEvent[] = [];
  let step = o.resume?.step ?? 0;
  const control = { shouldStop: () => o.stopAt !== undefined && step++ >= o.stopAt, waitIfPaused: async () => undefined };
  try {
    const injected = o.inject ? wrap(engine, o.inject(engine)) : engine;
    // Counted outermost, so a resumed run shows how much it really trained.
    const executed = { steps: 0, adamw: 0 };
    const model = wrap(injected, {
      step: (input, labels) => { executed.steps++; return injected.step(input, labels); },
      adamwStep: (lr, opts) => { executed.adamw++; return injected.adamwStep(lr, opts); },
    });
    const result = await train({
      model, loaded, data: o.data ?? lm, config, targets, control, checkpoints: o.store, resumeFrom: o.resume, onEvent: (e) => events.push(e),
    });
    return { result, weights: await engine.readLoraWeights(), opt: await engine.readOptimizerState(), events, executed };
  } finally {
    engine.destroy();
  }
}

async function latest(store: MemoryStore): Promise<{ state: TrainState; skipped: string[] }> {
  const c = await loadLatestCheckpoint(store);
  if (!c) throw new Error('no checkpoint in the store');
  return { state: c.state, skipped: c.skipped.map((s) => s.folder) };
}

function expectMaps(a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>, what: string): void {
  expect([...a.keys()].sort(), `${what}: names`).toEqual([...b.keys()].sort());
  for (const [k, v] of a) expectBits(v, b.get(k) as Float32Array, `${what} ${k}`);
}

/** Everything a run produces, bit for bit (numbers with Object.is). */
function expectSameRun(got: Outcome, want: Outcome): void {
  const g = got.result, w = want.result;
  expect(g.steps).toBe(w.steps);
  expect(g.history.length, 'history length').toBe(w.history.length);
  g.history.forEach((h, i) => {
    expect(Object.keys(h), `history[${i}] keys`).toEqual(Object.keys(w.history[i]));
    for (const k of Object.keys(h)) expect(Object.is(h[k], w.history[i][k]), `history[${i}].${k}: ${h[k]} vs ${w.history[i][k]}`).toBe(true);
  });
  expect(Object.is(g.finalTrainLoss, w.finalTrainLoss), 'final train loss').toBe(true);
  expect(g.finalVal).toEqual(w.finalVal);
  expect(g.bestVal).toEqual(w.bestVal);
  expectMaps(g.merged, w.merged, 'merged');
  expectMaps(g.head, w.head, 'head');
  expect(g.adapter === null).toBe(w.adapter === null);
  if (g.adapter && w.adapter) expectMaps(new Map([...g.adapter.tensors].map(([k, t]) => [k, t.data])), new Map([...w.adapter.tensors].map(([k, t]) => [k, t.data])), 'adapter');
  expect(g.iterations).toEqual(w.iterations);
  expectMaps(got.weights, want.weights, 'final trainable');
  expectMaps(got.opt.m, want.opt.m, 'adam m');
  expectMaps(got.opt.v, want.opt.v, 'adam v');
  expect([got.opt.step, got.opt.dropoutStep]).toEqual([want.opt.step, want.opt.dropoutStep]);
}

/** A store whose write of `failOn` stores half the bytes and throws, as a kill mid-write leaves it. */
class TornStore extends MemoryStore {
  torn = false;
  constructor(private readonly failOn: string) { super(); }
  override async write(name: string, bytes: Uint8Array): Promise<void> {
    if (name !== this.failOn || this.torn) return super.write(name, bytes);
    this.torn = true;
    await super.write(name, bytes.subarray(0, bytes.length >> 1));
    throw new Error(`injected: killed while writing ${name}`);
  }
}

describe('readOptimizerState / setOptimizerState', () => {
  it.each(['gpt2', 'vit'] as const)('%s: a fresh engine given the weights and optimizer state reads them back and steps bit-identically', async (kind) => {
    const loaded = kind === 'gpt2' ? gpt2 : vit;
    const data = (kind === 'gpt2' ? lm : toyImages(vit, 8, 0, 2)) as TaskData<unknown, unknown>;
    const targets = targetedModules(loaded, kind === 'gpt2' ? ['c_attn'] : ['query']);
    const make = async () => await createEngine(ctx, loaded, { targets, r: 2, scale: 4 / 2, useDora: false, B, T, seed: 5, loraDropout: 0.2 }) as unknown as EngineModel<unknown>;
    const batch = (i: number) => data.collate(data.train.slice(i * B, i * B + B), B);
    const a = await make(), b = await make();
    try {
      for (const i of [0, 1]) {
        const x = batch(i);
        await a.step(x.input, x.labels);
        await a.adamwStep(1e-2);
      }
      const weights = await a.readLoraWeights(), opt = await a.readOptimizerState();
      expect([opt.step, opt.dropoutStep]).toEqual([2, 2]);
      b.setLoraWeights(weights);
      b.setOptimizerState(opt);
      const back = await b.readOptimizerState();
      expectMaps(back.m, opt.m, 'm');
      expectMaps(back.v, opt.v, 'v');
      expect([back.step, back.dropoutStep]).toEqual([2, 2]);
      const x = batch(0);
      for (const e of [a, b]) { await e.step(x.input, x.labels); await e.adamwStep(1e-2); }
      expectMaps(await b.readLoraWeights(), await a.readLoraWeights(), 'weights after one more step');
      expectMaps((await b.readOptimizerState()).v, (await a.readOptimizerState()).v, 'v after one more step');
      const missing = { ...opt, m: new Map([...opt.m].slice(1)) };
      expect(() => b.setOptimizerState(missing)).toThrow(/m has \d+ tensors/);
      const short = { ...opt, v: new Map([...opt.v].map(([k, v], i) => [k, i === 0 ? v.subarray(1) : v])) };
      expect(() => b.setOptimizerState(short)).toThrow(/values; expected/);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

describe.each([
  ['lorasc', LORASC, { kills: [4], chain: [5, 10], torn: 8, tornFallback: 6 }],
  ['lora', LORA, { kills: [6], chain: [3, 7], torn: 8, tornFallback: 4 }],
])('%s (dropout on): kill and resume', (name, partial, plan) => {
  let reference: Outcome;
  beforeAll(async () => {
    reference = await run(partial);
    expect(reference.executed).toEqual({ steps: 12, adamw: 12 }); // 3 epochs × 4 steps, no accumulation
  });

  it('an uninterrupted run writes a checkpoint at each due step and a final one', async () => {
    const store = new MemoryStore();
    const out = await run(partial, { store });
    expectSameRun(out, reference); // capturing and writing checkpoints change nothing
    const written = out.events.filter((e) => e.type === 'checkpoint').map((e) => e.step);
    expect(written).toEqual(name === 'lorasc' ? [0, 3, 4, 6, 8, 9, 12] : [0, 4, 8, 12]);
    const folders = new Set([...store.files.keys()].map((k) => k.split('/')[0]));
    expect([...folders].sort()).toEqual([folderOf(written[written.length - 2]), folderOf(12)]); // two kept
    // Resuming a finished run trains nothing and rebuilds the same result.
    const again = await run(partial, { resume: (await latest(store)).state });
    expect(again.events.filter((e) => e.type === 'step')).toEqual([]);
    expect(again.executed).toEqual({ steps: 0, adamw: 0 });
    expectSameRun(again, reference);
  });

  it.each(plan.kills)('killed at the top of step %i, resumed from the newest checkpoint: bit-identical', async (k) => {
    const store = new MemoryStore();
    const first = await run(partial, { store, stopAt: k });
    expect(first.result.stopped).toBe(true);
    expect(first.executed).toEqual({ steps: k, adamw: k });
    const { state } = await latest(store);
    expect(state.step).toBeLessThan(k);
    const resumed = await run(partial, { store, resume: state });
    expect(resumed.events[0]).toMatchObject({ type: 'start', resumedFrom: state.step });
    // Only the remaining steps run: 12 − the checkpoint's step, each one pass and one update.
    expect(resumed.executed).toEqual({ steps: 12 - state.step, adamw: 12 - state.step });
    expectSameRun(resumed, reference);
  });

  it('killed twice, resumed twice: bit-identical', async () => {
    const store = new MemoryStore();
    await run(partial, { store, stopAt: plan.chain[0] });
    for (const k of plan.chain.slice(1)) await run(partial, { store, stopAt: k, resume: (await latest(store)).state });
    const from = (await latest(store)).state;
    const last = await run(partial, { store, resume: from });
    expect(last.executed.adamw, `optimizer steps after resuming from step ${from.step}`).toBe(12 - from.step);
    expectSameRun(last, reference);
  });

  it(`killed while writing the checkpoint of step ${plan.torn}: the torn folder never loads, the previous one does`, async () => {
    const store = new TornStore(`${folderOf(plan.torn)}/state.json`);
    const first = await run(partial, { store, stopAt: plan.torn + 1 });
    expect(store.torn).toBe(true);
    expect(first.events.find((e) => e.type === 'checkpoint-error')).toMatchObject({ step: plan.torn });
    const { state, skipped } = await latest(store);
    expect(skipped).toEqual([folderOf(plan.torn)]);
    expect(state.step).toBe(plan.tornFallback);
    expectSameRun(await run(partial, { store, resume: state }), reference);
  });
});

describe('ViT (LoRA + head, dropout on): kill and resume', () => {
  it('killed at step 4 of 6, resumed from step 3: head, adapter and moments bit-identical', async () => {
    const data = toyImages(vit, 12, 4, 5) as TaskData<unknown, unknown>;
    const partial: Partial<TrainingConfig> = { method: 'lora', targetModules: ['query', 'value'], r: 4, loraAlpha: 8, lr: 1e-2, epochs: 2, batchSize: 4, seed: 3, loraDropout: 0.1 };
    const o = { data, loaded: vit };
    const reference = await run(partial, o);
    const store = new MemoryStore();
    await run(partial, { ...o, store, stopAt: 4 });
    const { state } = await latest(store);
    expect(state.step).toBe(3);
    expect(state.weights.has('classifier.weight')).toBe(true);
    const resumed = await run(partial, { ...o, store, resume: state });
    expect(resumed.executed).toEqual({ steps: 3, adamw: 3 }); // steps 4–6 of 6
    expectSameRun(resumed, reference);
  });
});

describe('the NaN guard', () => {
  /** Writes NaN into the first two gradient elements after the step's backward, at the given steps. */
  const poisonGrads = (bad: Set<number>) => (engine: EngineModel<unknown>): Partial<EngineModel<unknown>> => {
    let k = 0;
    return {
      step: async (input, labels) => {
        const out = await engine.step(input, labels);
        if (bad.has(k++)) ctx.write((engine as unknown as Gpt2LoraModel).parts.arena.grads, new Float32Array([NaN, NaN]));
        return out;
      },
    };
  };

  it('skips the update of a bad step; K bad steps roll back to the last checkpoint (weights and moments) with the lr lowered', async () => {
    const partial: Partial<TrainingConfig> = { ...LORA, epochs: 2, schedule: 'constant', warmupRatio: 0, checkpointEvery: 2, nanPatience: 3, rollbackLrFactor: 0.5 };
    const store = new MemoryStore();
    let updates = 0;
    let atRollback: Map<string, Uint8Array> | null = null;
    const restored: { weights?: ReadonlyMap<string, Float32Array>; opt?: Outcome['opt'] } = {};
    const before: Map<string, Float32Array>[] = [];
    const out = await run(partial, {
      store,
      inject: (engine) => {
        const poison = poisonGrads(new Set([3, 4, 5]))(engine);
        return {
          ...poison,
          step: async (input, labels) => { before.push(await engine.readLoraWeights()); return (poison.step as typeof engine.step)(input, labels); },
          adamwStep: async (lr, o) => { updates++; return engine.adamwStep(lr, o); },
          setLoraWeights: (v) => { restored.weights = new Map(v); engine.setLoraWeights(v); },
          setOptimizerState: (s) => { restored.opt = s; atRollback ??= new Map(store.files); engine.setOptimizerState(s); },
        };
      },
    });
    const bad = out.events.filter((e) => e.type === 'bad-step').map((e) => e.step);
    expect(bad).toEqual([3, 4, 5]);
    expect(updates).toBe(8 - 3); // no update on a bad step
    for (const k of [3, 4]) expectMaps(before[k + 1], before[k], `weights after bad step ${k}`); // the same step's update was skipped
    const rb = out.events.filter((e): e is Extract<TrainEvent, { type: 'rollback' }> => e.type === 'rollback');
    expect(rb).toHaveLength(1);
    expect(rb[0]).toMatchObject({ step: 5, toStep: 4, lrFactor: 0.5 });
    // The rollback restored exactly the committed checkpoint of step 4: weights AND moments.
    const ckpt = await readCheckpoint(Object.assign(new MemoryStore(), { files: atRollback as unknown as Map<string, Uint8Array> }), folderOf(4));
    expectMaps(restored.weights as Map<string, Float32Array>, ckpt.weights, 'rolled-back weights');
    expectMaps(restored.opt?.m as Map<string, Float32Array>, ckpt.optimizer.m, 'rolled-back m');
    expectMaps(restored.opt?.v as Map<string, Float32Array>, ckpt.optimizer.v, 'rolled-back v');
    const lrs = out.result.history.filter((h) => 'learning_rate' in h);
    expect(lrs.map((h) => [h.step, h.learning_rate])).toEqual([[1, 2e-2], [2, 2e-2], [3, 2e-2], [7, 1e-2], [8, 1e-2]]);
    for (const [k, v] of store.files) if (k.endsWith('.safetensors')) for (const t of readSafetensors(v).tensors.values()) expect(t.data.every(Number.isFinite), `${k} ${t.name}`).toBe(true);
  });

  it('a non-finite weight is never checkpointed: the capture is refused and the run rolls back', async () => {
    const partial: Partial<TrainingConfig> = { ...LORA, epochs: 1, checkpointEvery: 1 };
    const store = new MemoryStore();
    const written: string[] = [];
    const checkedStore = Object.assign(store, {
      write: async (name: string, bytes: Uint8Array) => {
        if (name.endsWith('.safetensors')) for (const t of readSafetensors(bytes).tensors.values()) expect(t.data.every(Number.isFinite), `${name} ${t.name}`).toBe(true);
        written.push(name);
        return MemoryStore.prototype.write.call(store, name, bytes);
      },
    });
    let k = 0;
    const out = await run(partial, {
      store: checkedStore,
      inject: (engine) => ({
        adamwStep: async (lr, o) => {
          await engine.adamwStep(lr, o);
          if (k++ === 1) { // after the update of step 1, a weight goes NaN
            const name = engine.trainableEntries().find((e) => e.name.endsWith('lora_B.weight'))?.name as string;
            const w = (await engine.readLoraWeights()).get(name) as Float32Array;
            w[0] = NaN;
            engine.setLoraWeights(new Map([[name, w]]));
          }
        },
      }),
    });
    expect(out.events.find((e) => e.type === 'bad-step')).toMatchObject({ step: 2, reason: expect.stringContaining('non-finite values') });
    expect(out.events.find((e) => e.type === 'rollback')).toMatchObject({ step: 2, toStep: 1 });
    expect(out.events.some((e) => e.type === 'checkpoint-error')).toBe(false);
    expect(written.some((n) => n.startsWith(folderOf(2)))).toBe(false);
    for (const w of out.weights.values()) expect(w.every(Number.isFinite)).toBe(true);
  });
});

