// The invariants of the training methods (docs/method.md), on the tiny GPT-2 fixture (and the tiny ViT where
// it is cheap) with the real trainer and engine: B = 0 is the base model; the merged model is the
// adapted model; unmerge undoes merge; LoRA+ at ratio 1 is LoRA; LoRASC at α = 1, λ = 0 is COLA;
// a cascade's rank grows by r per iteration while LoRA's stays ≤ r; LoRASC's noise is discarded
// exactly; every method lowers the validation loss of a learnable toy task; a NaN rollback restores
// the weights the run started from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import { mergeDelta } from '../../../src/io/export';
import type { TrainingConfig } from '../../../src/train/config';
import type { LmExample, TaskData } from '../../../src/train/data';
import { createEngine } from '../../../src/train/engine';
import type { EngineModel } from '../../../src/train/trainer';
import { evaluate } from '../../../src/train/evaluate';
import { linearModules, loraKeys, targetedModules } from '../../../src/train/modules';
import { stdOf } from '../../../src/train/delta';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import {
  GPT2_TARGETS, type Run, VIT_TARGETS, bitsEqual, expectBits, logitsOf, maxAbsDiff, gpt2Engine, runTraining, stepLosses, toyImages, toyLm,
} from './helpers';

const B = 4, T = 16, R = 4, LORA_ALPHA = 8;
const S = LORA_ALPHA / R;
/** 3 epochs of 4 steps: a cascade has 3 iterations (one per epoch). Constant lr so every expert is of similar size. */
const COMMON: Partial<TrainingConfig> = {
  targetModules: GPT2_TARGETS, r: R, loraAlpha: LORA_ALPHA, lr: 2e-2, schedule: 'constant', warmupRatio: 0,
  epochs: 3, batchSize: B, seqLen: T, seed: 7,
};
const ITERATIONS = 3;

/** The F32 unit in the last place of |x| (normal range). */
const ulp = (x: number) => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -126))) - 23);

let ctx: GpuContext;
let gpt2: LoadedGpt2;
let data: TaskData<LmExample, Uint32Array>;
let sample: Uint32Array;
const runs = new Map<string, Promise<Run<LmExample, Uint32Array>>>();

/** One training run per name, shared by the tests that need it (each engine stays alive). */
function run(name: string, partial: Partial<TrainingConfig>) {
  let p = runs.get(name);
  if (!p) {
    p = runTraining(ctx, gpt2, data, { ...COMMON, ...partial });
    runs.set(name, p);
  }
  return p;
}
const lora = () => run('lora', { method: 'lora' });
const loraplus1 = () => run('loraplus1', { method: 'loraplus', loraplusRatio: 1 });
const loraplus16 = () => run('loraplus16', { method: 'loraplus', lr: 2e-3 }); // ratio 16: lora_B at 3.2e-2
const cola = () => run('cola', { method: 'cola' });
const lorascCola = () => run('lorasc-a1-l0', { method: 'lorasc', alpha: 1, lambda: 0 });
const lorasc = () => run('lorasc', { method: 'lorasc' }); // defaults: α 0.5, λ 0.05 uniform

beforeAll(async () => {
  ctx = await testContext();
  gpt2 = (await loadFixture('gpt2_tiny', 'gpt2')).loaded;
  data = toyLm(T, 16, 8, 1);
  sample = data.collate(data.val.slice(0, B), B).input;
});

afterAll(async () => {
  for (const p of runs.values()) (await p).engine.destroy();
});

/** Sets every weight of `w` (by module path) into a fresh GPT-2 shaped like the runs' (B = 0) and returns its logits. */
async function plainLogits(w: ReadonlyMap<string, Float32Array>, input = sample): Promise<Float32Array> {
  const e = await gpt2Engine(ctx, gpt2, { B, T, r: R });
  try {
    for (const [path, x] of w) e.setBaseWeight(path, x);
    return await logitsOf(e, input);
  } finally {
    e.destroy();
  }
}

describe('B = 0 is the base model', () => {
  // "No LoRA effect" is an engine of the same shape whose adapter is all zeros (A = 0, B = 0): the same
  // kernels sum the same base products in the same order, so B = 0 with any A must match it bit for bit.
  // An engine without those LoRA slots runs the plain matmul instead of the fused LoRA kernel, which
  // sums the base product in another order: that comparison is to F32 matmul rounding only.
  it('GPT-2: an adapter with B = 0 (and a large A) on every module gives the base logits bit for bit', async () => {
    const targets = targetedModules(gpt2, GPT2_TARGETS);
    const full = await gpt2Engine(ctx, gpt2, { B, T, r: R });
    const untargeted = await gpt2Engine(ctx, gpt2, { B, T, targets: ['transformer.h.0.mlp.c_fc'], r: 1 });
    try {
      const zeros = new Map<string, Float32Array>();
      const big = new Map<string, Float32Array>();
      for (const m of targets) {
        const k = loraKeys(m.path);
        zeros.set(k.A, new Float32Array(R * m.IN));
        zeros.set(k.B, new Float32Array(m.OUT * R));
        // |a| ≤ 1 instead of 1/√in: any leak of A·x through B = 0 would show.
        big.set(k.A, Float32Array.from({ length: R * m.IN }, (_, i) => Math.sin(i + m.OUT)));
        big.set(k.B, new Float32Array(m.OUT * R));
      }
      full.setLoraWeights(zeros);
      const want = await logitsOf(full, sample);
      full.setLoraWeights(big);
      expectBits(await logitsOf(full, sample), want, 'B = 0, large A vs A = B = 0');
      full.initLora(11); // PEFT init: kaiming A, B = 0
      expectBits(await logitsOf(full, sample), want, 'initLora vs A = B = 0');
      // Setting the base weights the model already holds changes nothing either.
      for (const m of targets) full.setBaseWeight(m.path, gpt2.tensors.get(m.weight)!.data);
      expectBits(await logitsOf(full, sample), want, 'after setBaseWeight(W0)');
      // Against the plain matmul path: equal to F32 rounding (measured ~2e-8).
      expect(maxAbsDiff(await logitsOf(untargeted, sample), want)).toBeLessThanOrEqual(1e-5);
      // The comparison is sensitive: one non-zero B element changes the logits.
      const k = loraKeys(targets[2].path);
      const b = new Float32Array(targets[2].OUT * R);
      b[5] = 1e-3;
      full.setLoraWeights(new Map([[k.B, b]]));
      expect(bitsEqual(await logitsOf(full, sample), want)).toBe(false);
    } finally {
      full.destroy();
      untargeted.destroy();
    }
  });

  it('ViT: an adapter with B = 0 on query and value gives the base logits bit for bit', async () => {
    const vit = (await loadFixture('vit_tiny', 'vit')).loaded;
    const images = toyImages(vit, 4, 0, 2);
    const pixels = images.collate(images.train, 4).input;
    const targets = targetedModules(vit, VIT_TARGETS);
    const other = linearModules(vit).filter((m) => m.path.endsWith('intermediate.dense')).slice(0, 1);
    const untargeted = await createEngine(ctx, vit, { targets: other, r: 1, scale: 1, useDora: false, B: 4, T: 0, seed: 0 });
    const full = await createEngine(ctx, vit, { targets, r: R, scale: LORA_ALPHA / R, useDora: false, B: 4, T: 0, seed: 5 });
    try {
      untargeted.initLora(0);
      full.setLoraWeights(new Map(targets.flatMap((m) => {
        const k = loraKeys(m.path);
        return [[k.A, new Float32Array(R * m.IN)], [k.B, new Float32Array(m.OUT * R)]] as [string, Float32Array][];
      })));
      const want = await logitsOf(full, pixels);
      full.initLora(9);
      const A = (await full.readLoraWeights()).get(loraKeys(targets[0].path).A)!;
      expect(A.some((x) => x !== 0)).toBe(true); // A is not zero: only B = 0 makes this exact
      expectBits(await logitsOf(full, pixels), want, 'ViT: B = 0 vs A = B = 0');
      expect(maxAbsDiff(await logitsOf(untargeted, pixels), want)).toBeLessThanOrEqual(1e-5);
      const b = new Float32Array(targets[0].OUT * R);
      b[3] = 1e-3;
      full.setLoraWeights(new Map([[loraKeys(targets[0].path).B, b]]));
      expect(bitsEqual(await logitsOf(full, pixels), want)).toBe(false);
    } finally {
      untargeted.destroy();
      full.destroy();
    }
  });
});

describe('merge', () => {
  // W0·x + s·B(A·x) (two F32 matmuls, summed) against (W0 + s·B·A)·x (the merge rounded to F32 once):
  // the same real number, rounded differently. Each linear layer differs by ~K·ε·|W||x| ≈ 1e-6 and two
  // layers plus the tied head amplify that by O(10), far below PEFT's merge-test tolerance 1e-4,
  // which the export's parity check also uses (docs/formats.md#parity). An adapter that is not merged at all
  // differs by > 1e-2 (checked), so the bound can fail.
  it('GPT-2 after LoRA training: base with setBaseWeight(merged) and B = 0 gives the adapted logits (≤ 1e-4)', async () => {
    const { result, engine } = await lora();
    const adapted = await logitsOf(engine, sample);
    const merged = await plainLogits(result.merged);
    const base = await plainLogits(new Map());
    expect(result.merged.size).toBe(4 * gpt2.config.n_layer);
    expect(maxAbsDiff(adapted, base), 'the adapter must change the logits').toBeGreaterThan(1e-2);
    expect(maxAbsDiff(merged, adapted)).toBeLessThanOrEqual(1e-4);
  });

  it('ViT after LoRA training (head trained too): merged model = adapted model (≤ 1e-4)', async () => {
    const vit = (await loadFixture('vit_tiny', 'vit')).loaded;
    const images = toyImages(vit, 10, 5, 3);
    const { result, engine, targets } = await runTraining(ctx, vit, images, {
      method: 'lora', targetModules: VIT_TARGETS, r: R, loraAlpha: LORA_ALPHA, lr: 2e-2, schedule: 'constant', warmupRatio: 0,
      epochs: 2, batchSize: 5, seed: 3,
    });
    const pixels = images.collate(images.val, 5).input;
    const plain = await createEngine(ctx, vit, { targets: [linearModules(vit)[0]], r: 1, scale: 1, useDora: false, B: 5, T: 0, seed: 0 });
    try {
      const adapted = await logitsOf(engine, pixels);
      plain.initLora(0);
      plain.setLoraWeights(result.head);
      const headOnly = await logitsOf(plain, pixels);
      for (const m of targets) plain.setBaseWeight(m.path, result.merged.get(m.path)!);
      const merged = await logitsOf(plain, pixels);
      expect([...result.head.keys()].sort()).toEqual(['classifier.bias', 'classifier.weight']);
      expect(maxAbsDiff(adapted, headOnly), 'the LoRA must change the logits').toBeGreaterThan(1e-3);
      expect(maxAbsDiff(merged, adapted)).toBeLessThanOrEqual(1e-4);
    } finally {
      plain.destroy();
      engine.destroy();
    }
  });

  it('unmerge undoes merge: mergeDelta(mergeDelta(W0, s), −s) is W0 within one rounding per step, exact where exact', async () => {
    const { result, targets } = await lora();
    const a = result.adapter!;
    let moved = 0, differ = 0;
    for (const m of targets) {
      const k = loraKeys(m.path);
      const A = a.tensors.get(k.A)!.data, Bm = a.tensors.get(k.B)!.data;
      const W0 = gpt2.tensors.get(m.weight)!.data;
      const W1 = mergeDelta(W0, m.layout, m.IN, m.OUT, Bm, A, R, S);
      const W2 = mergeDelta(W1, m.layout, m.IN, m.OUT, Bm, A, R, -S);
      expectBits(W1, result.merged.get(m.path)!, `merge of ${m.path} vs the trainer's merged weight`);
      for (let i = 0; i < W0.length; i++) {
        if (W1[i] !== W0[i]) moved++;
        if (W2[i] !== W0[i]) differ++;
        // W1 = W0 + δ + e1 (|e1| ≤ ulp(W1)/2); W2 = fl(W1 − δ) = fl(W0 + e1): at most two half-ulps away.
        const tol = 0.5 * ulp(W1[i]) + 0.5 * ulp(Math.abs(W0[i]) + 0.5 * ulp(W1[i]));
        if (Math.abs(W2[i] - W0[i]) > tol) expect.fail(`${m.path}[${i}]: unmerged ${W2[i]} vs W0 ${W0[i]} (merged ${W1[i]}, tolerance ${tol})`);
      }
    }
    expect(moved).toBeGreaterThan(0.9 * targets.reduce((n, m) => n + m.IN * m.OUT, 0)); // the merge really moved W
    expect(differ).toBeLessThan(moved); // most elements come back exactly
    // Exact cases. B = 0: merge and unmerge are the identity, bit for bit.
    const m = targets[0];
    const W0 = gpt2.tensors.get(m.weight)!.data;
    const A = a.tensors.get(loraKeys(m.path).A)!.data;
    const zero = new Float32Array(m.OUT * R);
    expectBits(mergeDelta(mergeDelta(W0, m.layout, m.IN, m.OUT, zero, A, R, S), m.layout, m.IN, m.OUT, zero, A, R, -S), W0, 'B = 0');
    // Dyadic values whose sums never round (W0 = k/256, A, B = j/16, s = 2): W0 back exactly, both layouts.
    for (const layout of ['conv1d', 'linear'] as const) {
      const IN = 6, OUT = 5;
      const w = Float32Array.from({ length: IN * OUT }, (_, i) => ((i * 37) % 255 - 127) / 256);
      const Ad = Float32Array.from({ length: R * IN }, (_, i) => ((i * 5) % 17 - 8) / 16);
      const Bd = Float32Array.from({ length: OUT * R }, (_, i) => ((i * 3) % 17 - 8) / 16);
      const w1 = mergeDelta(w, layout, IN, OUT, Bd, Ad, R, 2);
      expect(bitsEqual(w1, w)).toBe(false);
      expectBits(mergeDelta(w1, layout, IN, OUT, Bd, Ad, R, -2), w, `dyadic ${layout}`);
    }
  });
});

describe('method equivalences, bit for bit', () => {
  it('LoRA+ with loraplusRatio 1 is plain LoRA: same losses, same final LoRA weights, same merge', async () => {
    const a = await lora(), b = await loraplus1(), c = await loraplus16();
    expect(b.config.loraplusRatio).toBe(1);
    expect(stepLosses(a.result).length).toBe(12);
    expect(stepLosses(b.result)).toEqual(stepLosses(a.result));
    expect(b.result.history).toEqual(a.result.history);
    const ta = a.result.adapter!.tensors, tb = b.result.adapter!.tensors;
    expect([...tb.keys()]).toEqual([...ta.keys()]);
    for (const [k, v] of ta) expectBits(tb.get(k)!.data, v.data, k);
    for (const [p, w] of a.result.merged) expectBits(b.result.merged.get(p)!, w, `merged ${p}`);
    // The ratio is live: at 16, lora_B moves on another path.
    const kB = [...ta.keys()].find((k) => k.endsWith('lora_B.weight'))!;
    expect(bitsEqual(c.result.adapter!.tensors.get(kB)!.data, ta.get(kB)!.data)).toBe(false);
  });

  it('LoRASC with α = 1 and λ = 0 is COLA with per-epoch knots: same losses, merged weights and cascade adapter', async () => {
    const a = await cola(), b = await lorascCola();
    expect(a.config.alpha).toBe(1);
    expect(a.result.iterations.length).toBe(ITERATIONS);
    expect(b.result.iterations.length).toBe(ITERATIONS);
    expect(stepLosses(b.result)).toEqual(stepLosses(a.result));
    expect(b.result.history).toEqual(a.result.history);
    expect([...b.result.merged.keys()]).toEqual([...a.result.merged.keys()]);
    for (const m of a.targets) {
      const w = a.result.merged.get(m.path)!;
      expectBits(b.result.merged.get(m.path)!, w, `merged ${m.path}`);
      expect(bitsEqual(w, gpt2.tensors.get(m.weight)!.data), `COLA moved ${m.path}`).toBe(false);
    }
    for (const [k, v] of a.result.adapter!.tensors) expectBits(b.result.adapter!.tensors.get(k)!.data, v.data, k);
    expect(b.result.iterations).toEqual(a.result.iterations);
  });
});

describe('rank growth', () => {
  it('LoRASC\'s effective rank is t·r after iteration t (so > r); LoRA\'s stays ≤ r', async () => {
    const a = await lora(), c = await lorasc();
    expect(a.result.iterations.length).toBe(1);
    for (const l of a.result.iterations[0].layers) expect(l.spectrum!.effectiveRank, l.path).toBeLessThanOrEqual(R);
    expect(c.result.iterations.map((it) => it.iteration)).toEqual([1, 2, 3]);
    for (const it of c.result.iterations) {
      expect(it.layers.length).toBe(c.targets.length);
      for (const l of it.layers) {
        // Generic experts (fresh random A_t, trained B_t) are linearly independent: rank exactly t·r.
        expect(l.spectrum!.effectiveRank, `${l.path} after iteration ${it.iteration}`).toBe(it.iteration * R);
        expect(l.spectrum!.singularValues.filter((x) => x > 0).length).toBeGreaterThanOrEqual(it.iteration * R);
      }
    }
  });
});

describe('LoRASC noise', () => {
  it('the noise is discarded exactly: after each iteration the backbone is W0 + α·s·Σ B_t·A_t, recomputed from the experts', async () => {
    const { result, rec, targets, engine, config } = await lorasc();
    expect(config.lambda).toBeGreaterThan(0);
    expect(config.alpha).toBe(0.5);
    const n = targets.length;
    // beginIteration sets every target's noisy weight, endIteration its clean one: 2·n calls per iteration.
    expect(rec.baseSets.length).toBe(2 * n * ITERATIONS);
    expect(rec.experts.length).toBe(ITERATIONS);
    const W0 = new Map(targets.map((m) => [m.path, gpt2.tensors.get(m.weight)!.data]));
    const Sacc = new Map(targets.map((m) => [m.path, new Float32Array(m.IN * m.OUT)]));
    const F64 = new Map(targets.map((m) => [m.path, Float64Array.from(W0.get(m.path)!)]));
    const mag = new Map(targets.map((m) => [m.path, Float64Array.from(W0.get(m.path)!, Math.abs)]));
    let prevClean = W0;
    for (let t = 0; t < ITERATIONS; t++) {
      const noisy = rec.baseSets.slice(2 * n * t, 2 * n * t + n);
      const clean = rec.baseSets.slice(2 * n * t + n, 2 * n * (t + 1));
      const expert = rec.experts[t];
      const cleanNow = new Map<string, Float32Array>();
      targets.forEach((m, j) => {
        expect(noisy[j].path).toBe(m.path);
        expect(clean[j].path).toBe(m.path);
        // The noisy backbone: the previous clean one plus ε, |ε| ≤ λ/2·std(W0 + S), not zero.
        const before = prevClean.get(m.path)!;
        const bound = (config.lambda / 2) * stdOf(before) * (1 + 1e-6);
        let nonzero = 0;
        for (let i = 0; i < before.length; i++) {
          const e = noisy[j].w[i] - before[i];
          if (e !== 0) nonzero++;
          if (Math.abs(e) > bound + ulp(before[i])) expect.fail(`${m.path}[${i}] iteration ${t + 1}: noise ${e} > ${bound}`);
        }
        expect(nonzero).toBeGreaterThan(0.9 * before.length);
        // The clean backbone recomputed from the expert's factors in the same F32 order as docs/method.md#lorasc's
        // S ← S + α·ΔF, W ← W0 + S (ΔF = s·B·A with a Float64 dot product, rounded once).
        const k = loraKeys(m.path);
        const A = expert.get(k.A)!, Bm = expert.get(k.B)!;
        const Sm = Sacc.get(m.path)!, w0 = W0.get(m.path)!, f64 = F64.get(m.path)!, size = mag.get(m.path)!;
        const want = new Float32Array(w0.length);
        for (let o = 0; o < m.OUT; o++) {
          for (let i = 0; i < m.IN; i++) {
            let d = 0;
            for (let q = 0; q < R; q++) d += Bm[o * R + q] * A[q * m.IN + i];
            const idx = m.layout === 'conv1d' ? i * m.OUT + o : o * m.IN + i;
            const dF = Math.fround(S * d);
            Sm[idx] = Math.fround(Sm[idx] + config.alpha * dF);
            want[idx] = Math.fround(w0[idx] + Sm[idx]);
            f64[idx] += config.alpha * S * d;
            size[idx] += Math.abs(config.alpha * S * d);
          }
        }
        expectBits(clean[j].w, want, `${m.path} after iteration ${t + 1}`);
        // And against the Float64 sum W0 + Σ α·s·B_t·A_t: three F32 roundings per iteration, each at
        // most 2⁻²⁴ of the terms' size |W0| + Σ|α·s·B_t·A_t| (the sum itself may cancel to far less).
        for (let i = 0; i < want.length; i++) {
          if (Math.abs(clean[j].w[i] - f64[i]) > 1e-6 * size[i]) {
            expect.fail(`${m.path}[${i}]: ${clean[j].w[i]} vs Float64 ${f64[i]}`);
          }
        }
        expect(bitsEqual(clean[j].w, noisy[j].w)).toBe(false);
        cleanNow.set(m.path, clean[j].w);
      });
      prevClean = cleanNow;
    }
    for (const m of targets) expectBits(result.merged.get(m.path)!, prevClean.get(m.path)!, `result.merged ${m.path}`);
    // The GPU holds exactly that clean backbone (B = 0 after the last merge): its logits are those of a
    // fresh model given the recomputed weights, bit for bit, and not those of the last noisy backbone.
    const held = await logitsOf(engine, sample);
    expectBits(held, await plainLogits(prevClean), 'model after training vs recomputed W0 + D');
    const lastNoisy = new Map(rec.baseSets.slice(2 * n * (ITERATIONS - 1), 2 * n * (ITERATIONS - 1) + n).map((c) => [c.path, c.w]));
    expect(bitsEqual(held, await plainLogits(lastNoisy))).toBe(false);
  });
});

describe('learning', () => {
  it('every method lowers the validation loss of a learnable toy task within 12 steps', async () => {
    const base = await gpt2Engine(ctx, gpt2, { B, T, r: R });
    let before: number;
    try {
      before = (await evaluate(base as EngineModel<Uint32Array>, data, B)).loss;
    } finally {
      base.destroy();
    }
    expect(before).toBeGreaterThan(4); // ≈ ln 101: the random base knows nothing
    const got: Record<string, number> = {};
    for (const [name, r] of [['lora', lora()], ['loraplus', loraplus16()], ['cola', cola()], ['lorasc', lorasc()]] as const) {
      const { result } = await r;
      const evals = result.history.filter((h) => 'eval_loss' in h).map((h) => h.eval_loss);
      expect(evals.length, name).toBe(3); // one per epoch
      got[name] = result.finalVal!.loss;
      expect(result.finalVal!.loss, name).toBe(evals[evals.length - 1]);
      expect(evals[2], `${name}: epoch 3 vs epoch 1`).toBeLessThan(evals[0]);
    }
    for (const [name, loss] of Object.entries(got)) expect(loss, `${name}: ${loss} vs base ${before}`).toBeLessThan(before - 0.25);
  });
});

describe('NaN rollback', () => {
  it('restores the weights the run started from (after the run\'s own init), not the engine\'s creation-time init', async () => {
    const r = await runTraining(ctx, gpt2, data, { ...COMMON, method: 'lora', epochs: 1, nanPatience: 3 }, {
      step: (k) => (k < 3 ? { loss: Number.NaN } : null),
    });
    try {
      const rb = r.rec.events.filter((e) => e.type === 'rollback');
      expect(rb.length).toBe(1);
      expect(r.rec.loraSets.length).toBe(1);
      const start = r.rec.atFirstStep!;
      for (const [k, v] of start) expectBits(r.rec.loraSets[0].get(k)!, v, `rolled back ${k}`);
      expect(r.result.steps).toBe(4);
      expect(stepLosses(r.result).length).toBe(1); // three skipped, one real update
    } finally {
      r.engine.destroy();
    }
  });
});
