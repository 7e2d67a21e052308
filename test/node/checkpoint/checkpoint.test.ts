// The checkpoint files and their commit protocol (src/train/checkpoint.ts), without a GPU: a TrainState
// survives encode → store → verify → decode bit for bit; the manifest is the commit point, so a torn
// write (no manifest, a torn manifest, a short file, a flipped byte, a missing file) never loads and the
// previous checkpoint does; two committed checkpoints are kept; NaN/Inf are refused before anything is
// committed; a checkpoint of another run is refused naming the difference.
import { describe, expect, it } from 'vitest';
import { MemoryStore, StoreError, storePath } from '../../../src/io/store';
import {
  CheckpointError, type TrainState, checkResume, decodeCheckpoint, encodeCheckpoint, folderOf, loadLatestCheckpoint,
  nonFiniteTensors, peekLatestCheckpoint, readCheckpoint, writeCheckpoint,
} from '../../../src/train/checkpoint';
import { checkResolvedConfig, frozenWeightsOf, resolveConfig } from '../../../src/train/config';
import { mulberry32 } from '../../helpers/random';

const A = 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight';
const Bn = 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight';

function randomF32(n: number, rnd: () => number): Float32Array {
  // Raw bit patterns of finite values, including -0, subnormals and the extremes.
  const u = new Uint32Array(n).map(() => Math.floor(rnd() * 2 ** 32) >>> 0);
  for (let i = 0; i < n; i++) if ((u[i] & 0x7f800000) === 0x7f800000) u[i] &= 0xff7fffff;
  if (n > 2) { u[0] = 0x80000000; u[1] = 0x00000001; }
  return new Float32Array(u.buffer);
}

function state(step: number, seed = step + 1, cascade = true): TrainState {
  const rnd = mulberry32(seed);
  const t = (n: number) => randomF32(n, rnd);
  return {
    step, totalSteps: 12, inIteration: step % 4 !== 0, cascadeIteration: Math.floor(step / 4),
    entries: [{ name: A, shape: [2, 6] }, { name: Bn, shape: [18, 2] }],
    weights: new Map([[A, t(12)], [Bn, t(36)]]),
    optimizer: { m: new Map([[A, t(12)], [Bn, t(36)]]), v: new Map([[A, t(12)], [Bn, t(36)]]), steps: new Map([[A, step % 4], [Bn, step]]), dropoutStep: step },
    cascade: cascade ? new Map([['cascade.S.transformer.h.0.attn.c_attn', t(108)], ['cascade.D.transformer.h.0.attn.c_attn', t(108)]]) : null,
    lrFactor: 0.25, badRun: 1, lastLoss: step === 0 ? NaN : 1 / 3, bestVal: step ? { loss: 0.1 + 0.2, count: 8 } : null, finalVal: null,
    targetsSeen: 64 * step, elapsedMs: 12.5,
    history: [{ loss: 0.1 + 0.2, grad_norm: 1e-310, learning_rate: 2e-4 / 3, epoch: 0.25, step: 1 }],
    reports: [{ iteration: 1, layers: [{ path: 'transformer.h.0.attn.c_attn', fastNorm: Math.PI, slowNorm: Math.E, spectrum: { singularValues: [3, 1e-20], effectiveRank: 2, entropyRank: 1.5, frobenius: 2 } }] }],
    config: resolveConfig({ method: 'lorasc', r: 2 }),
    fingerprint: { model: 'deadbeef', data: '16/8:01234567' },
    // Keep-best state with kept weights (and, for a cascade, the kept snapshot) from step 4 on.
    keepBest: step >= 4 ? {
      bestLoss: 0.25, bestStep: 4, badEvals: step - 4, earlyStoppedAt: null,
      best: { step: 4, valLoss: 0.25, cascadeIteration: 1, weights: new Map([[A, t(12)], [Bn, t(36)]]), cascade: cascade ? new Map([['cascade.S.transformer.h.0.attn.c_attn', t(108)]]) : null },
    } : null,
  };
}

function expectSameState(got: TrainState, want: TrainState): void {
  const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
  const maps = (a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>) => {
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of a) expect(bits(v), k).toEqual(bits(b.get(k) as Float32Array));
  };
  maps(got.weights, want.weights);
  maps(got.optimizer.m, want.optimizer.m);
  maps(got.optimizer.v, want.optimizer.v);
  if (want.cascade) maps(got.cascade as Map<string, Float32Array>, want.cascade); else expect(got.cascade).toBeNull();
  const wb = want.keepBest?.best, gb = got.keepBest?.best;
  if (wb) {
    maps(gb?.weights as Map<string, Float32Array>, wb.weights);
    if (wb.cascade) maps(gb?.cascade as Map<string, Float32Array>, wb.cascade); else expect(gb?.cascade).toBeNull();
  } else expect(gb ?? null).toBeNull();
  const keepScalars = (k: TrainState['keepBest']) => (k ? { ...k, best: k.best ? { ...k.best, weights: 0, cascade: 0 } : null } : null);
  const scalars = (s: TrainState) => ({ ...s, weights: 0, optimizer: { ...s.optimizer, m: 0, v: 0 }, cascade: 0, keepBest: keepScalars(s.keepBest) });
  expect(scalars(got)).toEqual(scalars(want));
  expect(Object.is(got.lastLoss, want.lastLoss)).toBe(true);
}

describe('encode / decode', () => {
  it('round-trips every bit and every scalar (NaN lastLoss, -0, subnormals, doubles in the history)', () => {
    for (const s of [state(0), state(5), state(7, 9, false)]) expectSameState(decodeCheckpoint(encodeCheckpoint(s)), s);
  });

  it('refuses NaN/Inf in any tensor (EXPORT_NONFINITE) and counts them', () => {
    const s = state(3);
    (s.optimizer.v.get(Bn) as Float32Array)[5] = Infinity;
    (s.weights.get(A) as Float32Array).fill(NaN, 0, 2);
    expect(nonFiniteTensors(s)).toEqual([{ name: `weight/${A}`, count: 2 }, { name: `adam_v/${Bn}`, count: 1 }]);
    expect(() => encodeCheckpoint(s)).toThrow(expect.objectContaining({ code: 'EXPORT_NONFINITE' }));
  });

  it('refuses a state.json of another format or a tensor file that lacks a tensor', () => {
    const files = encodeCheckpoint(state(4));
    const j = JSON.parse(new TextDecoder().decode(files.get('state.json'))) as Record<string, unknown>;
    const withState = (x: Record<string, unknown>) => new Map([...files, ['state.json', new TextEncoder().encode(JSON.stringify(x))]]);
    expect(() => decodeCheckpoint(withState({ ...j, version: 3 }))).toThrow(CheckpointError);
    // v1 kept one AdamW step count for all tensors: refused with a line that says so, not misread.
    const v1: Record<string, unknown> = { ...j, version: 1, optimizerStep: 2 };
    delete v1.optimizerSteps;
    expect(() => decodeCheckpoint(withState(v1))).toThrow(/checkpoint format v1; this version reads v2 only/);
    expect(() => decodeCheckpoint(withState({ ...j, optimizerSteps: { [A]: 1 } }))).toThrow(/optimizerSteps\..*lora_B.* is missing/);
    expect(() => decodeCheckpoint(withState({ ...j, optimizerSteps: { [A]: 1, [Bn]: -1 } }))).toThrow(/optimizerSteps\..*lora_B.* is not an integer/);
    const other = encodeCheckpoint({ ...state(4), weights: new Map([[A, new Float32Array(12)]]) });
    expect(() => decodeCheckpoint(new Map([...files, ['tensors.safetensors', other.get('tensors.safetensors') as Uint8Array]]))).toThrow(/weight\/.*lora_B.* is missing/);
  });
});

describe('the commit protocol', () => {
  it('writes data files then the manifest, loads the newest, keeps two committed checkpoints', async () => {
    const store = new MemoryStore();
    const order: string[] = [];
    const spy = Object.assign(Object.create(store) as MemoryStore, { write: (n: string, b: Uint8Array) => { order.push(n); return store.write(n, b); } });
    for (const k of [0, 4, 8]) await writeCheckpoint(spy, state(k));
    expect(order.slice(0, 3)).toEqual([`${folderOf(0)}/tensors.safetensors`, `${folderOf(0)}/state.json`, `${folderOf(0)}/manifest.json`]);
    expect(new Set([...store.files.keys()].map((k) => k.split('/')[0]))).toEqual(new Set([folderOf(4), folderOf(8)]));
    const got = await loadLatestCheckpoint(store);
    expect(got?.folder).toBe(folderOf(8));
    expect(got?.skipped).toEqual([]);
    expectSameState(got?.state as TrainState, state(8));
    expect(await peekLatestCheckpoint(store)).toMatchObject({ step: 8, totalSteps: 12 });
  });

  const tears: [string, (files: Map<string, Uint8Array>, folder: string) => void, RegExp][] = [
    ['no manifest', (f, d) => { f.delete(`${d}/manifest.json`); }, /no manifest/],
    ['a torn manifest', (f, d) => { const m = f.get(`${d}/manifest.json`) as Uint8Array; f.set(`${d}/manifest.json`, m.subarray(0, m.length - 7)); }, /not JSON/],
    ['a short tensor file', (f, d) => { const t = f.get(`${d}/tensors.safetensors`) as Uint8Array; f.set(`${d}/tensors.safetensors`, t.subarray(0, t.length - 4)); }, /bytes; the manifest says/],
    ['a flipped byte', (f, d) => { const t = (f.get(`${d}/tensors.safetensors`) as Uint8Array).slice(); t[t.length - 3] ^= 1; f.set(`${d}/tensors.safetensors`, t); }, /SHA-256/],
    ['a missing state.json', (f, d) => { f.delete(`${d}/state.json`); }, /state.json is missing/],
  ];
  it.each(tears)('%s: the folder is skipped and the previous checkpoint loads', async (_what, tear, reason) => {
    const store = new MemoryStore();
    await writeCheckpoint(store, state(4));
    await writeCheckpoint(store, state(8));
    tear(store.files, folderOf(8));
    const got = await loadLatestCheckpoint(store);
    expect(got?.folder).toBe(folderOf(4));
    expect(got?.skipped).toEqual([{ folder: folderOf(8), reason: expect.stringMatching(reason) }]);
    await expect(readCheckpoint(store, folderOf(8))).rejects.toThrow(CheckpointError);
    expectSameState(got?.state as TrainState, state(4));
  });

  it('a torn folder is removed by the next commit; a store with only torn folders has no checkpoint', async () => {
    const store = new MemoryStore();
    await writeCheckpoint(store, state(4));
    store.files.delete(`${folderOf(4)}/manifest.json`);
    expect(await loadLatestCheckpoint(store)).toBeNull();
    expect(await peekLatestCheckpoint(store)).toBeNull();
    await writeCheckpoint(store, state(5));
    expect(new Set([...store.files.keys()].map((k) => k.split('/')[0]))).toEqual(new Set([folderOf(5)]));
  });

  it('a non-finite state commits nothing: the previous checkpoint stays the newest', async () => {
    const store = new MemoryStore();
    await writeCheckpoint(store, state(4));
    const bad = state(8);
    (bad.cascade?.values().next().value as Float32Array)[0] = NaN;
    await expect(writeCheckpoint(store, bad)).rejects.toThrow(/non-finite/);
    expect((await loadLatestCheckpoint(store))?.folder).toBe(folderOf(4));
    expect([...store.files.keys()].some((k) => k.startsWith(folderOf(8)))).toBe(false);
  });
});

describe('resume checks', () => {
  const s = state(4);
  it('accepts the same run, whatever its checkpoint interval', () => {
    expect(() => checkResume(s, { ...s.config, checkpointEvery: 7 }, s.fingerprint, 12)).not.toThrow();
  });
  it('accepts the same run with or without activation recomputation (bit-identical gradients)', () => {
    expect(() => checkResume(s, { ...s.config, recompute: !s.config.recompute }, s.fingerprint, 12)).not.toThrow();
  });
  it('a checkpoint written before the recompute option resumes as recompute: false; a bad value is refused', () => {
    const { recompute: _r, ...older } = s.config;
    expect(checkResolvedConfig(older).recompute).toBe(false);
    expect(checkResolvedConfig({ ...s.config, recompute: true }).recompute).toBe(true);
    expect(() => checkResolvedConfig({ ...s.config, recompute: 'yes' })).toThrow(/recompute: must be true or false/);
    expect(resolveConfig({}).recompute).toBe(false);
    expect(() => resolveConfig({ recompute: 1 as unknown as boolean })).toThrow(/recompute/);
  });
  it("a checkpoint written before the frozenWeights option resumes as 'stored' (what every engine did); a bad value is refused", () => {
    const { frozenWeights: _f, ...older } = s.config;
    expect(checkResolvedConfig(older).frozenWeights).toBe('stored');
    expect(checkResolvedConfig({ ...s.config, frozenWeights: 'f32' }).frozenWeights).toBe('f32');
    expect(() => checkResolvedConfig({ ...s.config, frozenWeights: 'bf16' })).toThrow(/frozenWeights: must be stored or f32/);
    expect(resolveConfig({}).frozenWeights).toBe('stored');
    // What the run really uses: the choice, except a cascade (it writes the base weight), always F32.
    expect(frozenWeightsOf(resolveConfig({ method: 'lora', frozenWeights: 'stored' }))).toBe('stored');
    expect(frozenWeightsOf(resolveConfig({ method: 'lora', frozenWeights: 'f32' }))).toBe('f32');
    expect(frozenWeightsOf(resolveConfig({ method: 'lorasc', frozenWeights: 'stored' }))).toBe('f32');
    expect(frozenWeightsOf(resolveConfig({ method: 'cola', frozenWeights: 'stored' }))).toBe('f32');
  });
  it.each([
    ['a config field', () => checkResume(s, { ...s.config, lr: 1e-3 }, s.fingerprint, 12), /config lr is 0.001/],
    ['the base model', () => checkResume(s, s.config, { ...s.fingerprint, model: 'cafef00d' }, 12), /base model differs/],
    ['the data', () => checkResume(s, s.config, { ...s.fingerprint, data: '15/8:01234567' }, 12), /data differs/],
    ['the run length', () => checkResume(s, s.config, s.fingerprint, 16), /16 steps/],
  ])('refuses another %s (RUN_MISMATCH)', (_what, f, msg) => {
    expect(f).toThrow(msg);
    expect(f).toThrow(expect.objectContaining({ code: 'RUN_MISMATCH' }));
  });
});

describe('store names', () => {
  it.each(['', '/abs', 'a/../b', 'a//b', '.', 'a\\b'])('refuses %j', (name) => {
    expect(() => storePath(name)).toThrow(StoreError);
  });
});
