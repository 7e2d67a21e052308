// The cascade of COLA/LoRASC (src/train/cascade.ts) on the CPU, with a fake backbone that records every
// setBaseWeight call: the slow rules against a direct Float64 simulation of docs/method.md#slow-rule's recurrences
// (and the closed-form coefficients against a scalar simulation of them), the noise's distribution,
// reproducibility and freshness, the noise discarded exactly (or kept, with persistentNoise), the
// rank-T·r export against Σ c_t·B_t·A_t formed densely; and resolveConfig's refusals and defaults.
import { describe, expect, it } from 'vitest';
import { adapterVariant } from '../../../src/adapters/registry';
import type { CascadePolicy } from '../../../src/adapters/variant';
import { Cascade } from '../../../src/train/cascade';
import { ConfigError, type TrainingConfig, resolveConfig } from '../../../src/train/config';
import { stdOf } from '../../../src/train/delta';
import type { LinearModule } from '../../../src/train/modules';
import { expectAllClose } from '../../helpers/allclose';
import { uniformF32 } from '../../helpers/random';

const R = 2;
const SCALE = 1.5;

/** The backbone the cascade drives: records every setBaseWeight call and what each module holds. */
class FakeBackbone {
  readonly calls: { path: string; w: Float32Array }[] = [];
  readonly held = new Map<string, Float32Array>();
  setBaseWeight(path: string, w: Float32Array): void {
    this.calls.push({ path, w: w.slice() });
    this.held.set(path, w.slice());
  }
}

const mod = (path: string, layout: 'conv1d' | 'linear', IN: number, OUT: number): LinearModule => ({ path, weight: `${path}.weight`, layout, IN, OUT });
const M0 = mod('transformer.h.0.attn.c_attn', 'conv1d', 6, 9);
const M1 = mod('vit.encoder.layer.0.attention.attention.query', 'linear', 8, 5);
const TARGETS = [M0, M1];

function baseWeights(mods: LinearModule[], seed: number, amp = 1): Map<string, Float32Array> {
  return new Map(mods.map((m, i) => [m.path, uniformF32(m.IN * m.OUT, seed + i, -amp, amp)]));
}

interface Expert { A: Float32Array; B: Float32Array }

function experts(mods: LinearModule[], t: number, amp = 1): Map<string, Expert> {
  return new Map(mods.map((m, i) => [m.path, {
    A: uniformF32(R * m.IN, 100 * t + 2 * i + 1, -amp, amp), B: uniformF32(m.OUT * R, 100 * t + 2 * i + 2, -amp, amp),
  }]));
}

/** c·B·A in Float64, laid out like the module's weight (Conv1D [in, out], nn.Linear [out, in]). */
function dense(e: Expert, m: LinearModule, c: number): Float64Array {
  const out = new Float64Array(m.IN * m.OUT);
  for (let o = 0; o < m.OUT; o++) {
    for (let i = 0; i < m.IN; i++) {
      let d = 0;
      for (let k = 0; k < R; k++) d += e.B[o * R + k] * e.A[k * m.IN + i];
      out[m.layout === 'conv1d' ? i * m.OUT + o : o * m.IN + i] = c * d;
    }
  }
  return out;
}

const policy = (p: Partial<CascadePolicy>): CascadePolicy => ({ alpha: 0.5, slow: 'lookahead', noise: null, ...p });
const uniformNoise = (lambda: number, persistent = false): CascadePolicy['noise'] => ({ lambda, form: 'uniform', scope: 'targets', persistent });

/** Coefficients of ΔF_1..ΔF_T (each s·B_k·A_k) in the update D_T, by running the recurrences on unit vectors. */
function simulatedCoefficients(slow: 'lookahead' | 'ema', alpha: number, T: number): number[] {
  const S = new Float64Array(T), D = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < T; k++) {
      const e = k === t ? 1 : 0;
      if (slow === 'lookahead') { S[k] += alpha * e; D[k] = S[k]; } else { S[k] = (1 - alpha) * S[k] + alpha * e; D[k] += S[k]; }
    }
  }
  return [...D];
}

const f32Bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
function expectBits(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  const ua = f32Bits(a), ub = f32Bits(b);
  const i = ua.findIndex((x, k) => x !== ub[k]);
  expect(i, `${what}: first differing element ${i}: ${a[i]} vs ${b[i]}`).toBe(-1);
}

describe('Cascade: the slow rules against their recurrences', () => {
  for (const [slow, alpha] of [['lookahead', 0.5], ['lookahead', 1], ['ema', 0.3], ['ema', 0.75]] as const) {
    it(`${slow}, α = ${alpha}: the backbone after each iteration is W0 + D_t of a Float64 simulation`, () => {
      const W0 = baseWeights(TARGETS, 1);
      const c = new Cascade(TARGETS, TARGETS, W0, policy({ alpha, slow }), R, SCALE, false, 42);
      const bb = new FakeBackbone();
      const S = new Map(TARGETS.map((m) => [m.path, new Float64Array(m.IN * m.OUT)]));
      const D = new Map(TARGETS.map((m) => [m.path, new Float64Array(m.IN * m.OUT)]));
      const T = 4;
      for (let t = 1; t <= T; t++) {
        c.beginIteration(bb);
        // No noise: the iteration's backbone is the clean one, exactly.
        for (const m of TARGETS) expectBits(bb.held.get(m.path)!, c.clean(m.path), `noise-free W̃ of ${m.path}`);
        const ex = experts(TARGETS, t);
        const report = c.endIteration(bb, ex);
        expect(report.iteration).toBe(t);
        for (const m of TARGETS) {
          const dF = dense(ex.get(m.path)!, m, SCALE);
          const s = S.get(m.path)!, d = D.get(m.path)!;
          for (let i = 0; i < s.length; i++) {
            if (slow === 'lookahead') { s[i] += alpha * dF[i]; d[i] = s[i]; } else { s[i] = (1 - alpha) * s[i] + alpha * dF[i]; d[i] += s[i]; }
          }
          const want = Float64Array.from(W0.get(m.path)!, (w, i) => w + d[i]);
          // F32 accumulation of O(1) terms over ≤ 4 iterations: a few ulps of values ≤ ~20.
          expectAllClose(bb.held.get(m.path)!, want, { atol: 2e-5, rtol: 1e-6 }, `${slow} α=${alpha} ${m.path} t=${t}`);
          expect(c.mergedWeights().get(m.path)).toEqual(bb.held.get(m.path));
        }
      }
      // The closed-form coefficient of each expert (used by the export and the spectra) is the simulation's.
      const sim = simulatedCoefficients(slow, alpha, T);
      for (let k = 1; k <= T; k++) expect(c.coefficient(k, T)).toBeCloseTo(SCALE * sim[k - 1], 12);
      expect(c.cascadeFactors(M0.path).map((f) => f.coef)).toEqual([1, 2, 3, 4].map((k) => c.coefficient(k, T)));
    });
  }

  it('the two rules differ for α < 1 (ema weights early experts more) and agree bit for bit at α = 1', () => {
    const la = simulatedCoefficients('lookahead', 0.5, 3), ema = simulatedCoefficients('ema', 0.5, 3);
    expect(la).toEqual([0.5, 0.5, 0.5]);
    expect(ema).toEqual([0.875, 0.75, 0.5]);
    const W0 = baseWeights(TARGETS, 3);
    const run = (slow: 'lookahead' | 'ema', alpha: number) => {
      const c = new Cascade(TARGETS, TARGETS, W0, policy({ alpha, slow }), R, SCALE, false, 1);
      const bb = new FakeBackbone();
      for (let t = 1; t <= 3; t++) { c.beginIteration(bb); c.endIteration(bb, experts(TARGETS, t)); }
      return c.mergedWeights();
    };
    const a = run('lookahead', 1), b = run('ema', 1);
    for (const m of TARGETS) expectBits(b.get(m.path)!, a.get(m.path)!, `ema α=1 vs lookahead α=1 ${m.path}`);
    const c = run('lookahead', 0.5), d = run('ema', 0.5);
    expect(c.get(M0.path)).not.toEqual(d.get(M0.path));
  });

  it('without noise the clean backbone is W0 + S in F32, bit for bit (S ← S + α·fl(s·B·A))', () => {
    const W0 = baseWeights(TARGETS, 5);
    const alpha = 0.3;
    const c = new Cascade(TARGETS, TARGETS, W0, policy({ alpha }), R, SCALE, false, 1);
    const bb = new FakeBackbone();
    const S = new Map(TARGETS.map((m) => [m.path, new Float32Array(m.IN * m.OUT)]));
    for (let t = 1; t <= 3; t++) {
      c.beginIteration(bb);
      const ex = experts(TARGETS, t);
      c.endIteration(bb, ex);
      for (const m of TARGETS) {
        const dF = dense(ex.get(m.path)!, m, SCALE);
        const s = S.get(m.path)!;
        for (let i = 0; i < s.length; i++) s[i] = Math.fround(s[i] + alpha * Math.fround(dF[i]));
        expectBits(bb.held.get(m.path)!, Float32Array.from(W0.get(m.path)!, (w, i) => Math.fround(w + s[i])), `${m.path} t=${t}`);
      }
    }
  });
});

describe('Cascade: the noise', () => {
  const BIG = mod('transformer.h.1.mlp.c_fc', 'conv1d', 64, 96); // 6144 weights for the statistics
  const TWIN = mod('transformer.h.1.mlp.c_proj', 'linear', 64, 96); // same shape, same W0: another stream
  const LAMBDA = 0.2;

  /** ε of the iteration just begun: the noisy weight minus the clean one, in Float64. */
  function noiseOf(bb: FakeBackbone, c: Cascade, path: string): Float64Array {
    const noisy = bb.held.get(path)!, clean = c.clean(path);
    return Float64Array.from(noisy, (x, i) => x - clean[i]);
  }

  const mean = (x: ArrayLike<number>) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i]; return s / x.length; };
  const variance = (x: ArrayLike<number>) => { const m = mean(x); let v = 0; for (let i = 0; i < x.length; i++) v += (x[i] - m) ** 2; return v / x.length; };
  const correlation = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    const ma = mean(a), mb = mean(b);
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) { ab += (a[i] - ma) * (b[i] - mb); aa += (a[i] - ma) ** 2; bb += (b[i] - mb) ** 2; }
    return ab / Math.sqrt(aa * bb);
  };

  function setup(noise: CascadePolicy['noise'], seed = 42, mods = [BIG, TWIN]) {
    const w = uniformF32(BIG.IN * BIG.OUT, 9, -0.1, 0.1);
    const W0 = new Map(mods.map((m) => [m.path, w]));
    const c = new Cascade(mods, mods, W0, policy({ noise }), R, SCALE, false, seed);
    return { c, bb: new FakeBackbone(), W0 };
  }

  it('uniform: ε ~ U(−λ/2, λ/2)·std(W): bounded, centred, with the variance and the flat histogram of a uniform', () => {
    const { c, bb, W0 } = setup(uniformNoise(LAMBDA));
    c.beginIteration(bb);
    const half = (LAMBDA / 2) * stdOf(W0.get(BIG.path)!);
    const e = noiseOf(bb, c, BIG.path);
    const n = e.length;
    const maxAbs = Math.max(...e.map(Math.abs));
    // Bound: λ/2·std plus the rounding of W + ε (≤ half an ulp of |W| ≤ 0.1+).
    expect(maxAbs).toBeLessThanOrEqual(half * (1 + 1e-6) + 2 ** -27);
    expect(maxAbs).toBeGreaterThan(0.99 * half); // the whole range is used, not a narrower one
    const sd = half / Math.sqrt(3); // a uniform on ±h has variance h²/3
    expect(Math.abs(mean(e))).toBeLessThan((4 * sd) / Math.sqrt(n));
    expect(variance(e) / (sd * sd)).toBeGreaterThan(0.93);
    expect(variance(e) / (sd * sd)).toBeLessThan(1.07);
    const bins = new Array<number>(10).fill(0);
    for (const x of e) bins[Math.min(9, Math.floor(((x + half) / (2 * half)) * 10))]++;
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(0.2 * (n / 10)); // ±5 binomial sd
  });

  it('gaussian: ε ~ N(0, (λ·std(W))²): centred, with that standard deviation and a normal kurtosis', () => {
    const { c, bb, W0 } = setup({ lambda: LAMBDA, form: 'gaussian', scope: 'targets', persistent: false });
    c.beginIteration(bb);
    const sd = LAMBDA * stdOf(W0.get(BIG.path)!);
    const e = noiseOf(bb, c, BIG.path);
    expect(Math.abs(mean(e))).toBeLessThan((4 * sd) / Math.sqrt(e.length));
    expect(Math.sqrt(variance(e)) / sd).toBeGreaterThan(0.96);
    expect(Math.sqrt(variance(e)) / sd).toBeLessThan(1.04);
    const m4 = mean(e.map((x) => x ** 4)) / variance(e) ** 2;
    expect(m4).toBeGreaterThan(2.7);
    expect(m4).toBeLessThan(3.3);
  });

  it('reproducible from the seed; another seed, another iteration or another module gets independent noise', () => {
    const a = setup(uniformNoise(LAMBDA), 42), b = setup(uniformNoise(LAMBDA), 42), other = setup(uniformNoise(LAMBDA), 43);
    for (const s of [a, b, other]) s.c.beginIteration(s.bb);
    expectBits(b.bb.held.get(BIG.path)!, a.bb.held.get(BIG.path)!, 'same seed');
    const e1 = noiseOf(a.bb, a.c, BIG.path);
    expect(Math.abs(correlation(e1, noiseOf(other.bb, other.c, BIG.path)))).toBeLessThan(0.1);
    // Same W0 and shape, another module: its own stream.
    expect(Math.abs(correlation(e1, noiseOf(a.bb, a.c, TWIN.path)))).toBeLessThan(0.1);
    // Iteration 2 (after a no-op expert, so the clean weight is W0 again): a fresh sample.
    const zero = new Map([BIG, TWIN].map((m) => [m.path, { A: new Float32Array(R * m.IN), B: new Float32Array(m.OUT * R) }]));
    a.c.endIteration(a.bb, zero);
    expectBits(a.bb.held.get(BIG.path)!, a.W0.get(BIG.path)!, 'clean after a no-op expert');
    a.c.beginIteration(a.bb);
    const e2 = noiseOf(a.bb, a.c, BIG.path);
    expect(Math.abs(correlation(e1, e2))).toBeLessThan(0.1);
    expect(Math.max(...e2.map(Math.abs))).toBeGreaterThan(0);
  });

  it('the noise scale follows the current clean weight W0 + S, not W0', () => {
    const { c, bb, W0 } = setup(uniformNoise(LAMBDA), 42, [BIG]);
    c.beginIteration(bb);
    // A large expert: std(W0 + S) is many times std(W0).
    c.endIteration(bb, new Map([[BIG.path, { A: uniformF32(R * BIG.IN, 1), B: uniformF32(BIG.OUT * R, 2) }]]));
    const clean = c.clean(BIG.path);
    expect(stdOf(clean)).toBeGreaterThan(5 * stdOf(W0.get(BIG.path)!));
    c.beginIteration(bb);
    const half = (LAMBDA / 2) * stdOf(clean);
    const maxAbs = Math.max(...noiseOf(bb, c, BIG.path).map(Math.abs));
    expect(maxAbs).toBeLessThanOrEqual(half * (1 + 1e-6) + 2 ** -22);
    expect(maxAbs).toBeGreaterThan(0.99 * half);
  });

  it('the noise is discarded exactly at the end of an iteration; with persistentNoise it stays in the backbone', () => {
    const W0 = baseWeights(TARGETS, 11);
    const run = (persistent: boolean) => {
      const c = new Cascade(TARGETS, TARGETS, W0, policy({ alpha: 0.5, noise: uniformNoise(0.5, persistent) }), R, SCALE, false, 7);
      const bb = new FakeBackbone();
      const eps: Map<string, Float64Array>[] = [];
      const held: Map<string, Float32Array>[] = [];
      for (let t = 1; t <= 2; t++) {
        const before = new Map(TARGETS.map((m) => [m.path, c.clean(m.path)]));
        c.beginIteration(bb);
        eps.push(new Map(TARGETS.map((m) => [m.path, Float64Array.from(bb.held.get(m.path)!, (x, i) => x - before.get(m.path)![i])])));
        c.endIteration(bb, experts(TARGETS, t));
        held.push(new Map(TARGETS.map((m) => [m.path, bb.held.get(m.path)!])));
      }
      return { c, eps, held };
    };
    const clean = run(false), kept = run(true);
    // Both runs draw the same noise and merge the same experts; the slow update D is the same.
    const S = new Map(TARGETS.map((m) => [m.path, new Float32Array(m.IN * m.OUT)]));
    for (let t = 0; t < 2; t++) {
      const ex = experts(TARGETS, t + 1);
      for (const m of TARGETS) {
        const s = S.get(m.path)!;
        const dF = dense(ex.get(m.path)!, m, SCALE);
        for (let i = 0; i < s.length; i++) s[i] = Math.fround(s[i] + 0.5 * Math.fround(dF[i]));
        const w0D = Float32Array.from(W0.get(m.path)!, (w, i) => Math.fround(w + s[i]));
        // Discarded: W0 + D exactly, not W̃ − ε (which would carry ε's rounding).
        expectBits(clean.held[t].get(m.path)!, w0D, `discarded, ${m.path} t=${t + 1}`);
        // Kept: W0 + D + ε_1 (+ ε_2): the accumulated noise, to the rounding of the sums.
        const e = Float64Array.from(clean.eps[0].get(m.path)!, (x, i) => x + (t === 1 ? kept.eps[1].get(m.path)![i] : 0));
        expect(kept.eps[0].get(m.path)).toEqual(clean.eps[0].get(m.path));
        const got = Float64Array.from(kept.held[t].get(m.path)!, (x, i) => x - w0D[i]);
        expectAllClose(got, e, { atol: 1e-6, rtol: 1e-5 }, `kept noise, ${m.path} t=${t + 1}`);
        expect(Math.max(...got.map(Math.abs))).toBeGreaterThan(0.01);
      }
    }
    // Iteration 2's noise in the persistent run is drawn around W0 + D + ε_1: different from the clean run's.
    expect(kept.eps[1].get(M0.path)).not.toEqual(clean.eps[1].get(M0.path));
    expect(clean.c.lowRankExact).toBe(true);
    expect(kept.c.lowRankExact).toBe(false);
    for (const m of TARGETS) expectBits(kept.c.mergedWeights().get(m.path)!, kept.held[1].get(m.path)!, `merged keeps the noise: ${m.path}`);
  });

  it('noise scope "all": a noised module that is not a target gets noise, then exactly W0 back', () => {
    const other = mod('transformer.h.0.mlp.c_proj', 'conv1d', 7, 4);
    const W0 = baseWeights([...TARGETS, other], 21);
    const c = new Cascade(TARGETS, [...TARGETS, other], W0, policy({ noise: { lambda: 0.3, form: 'uniform', scope: 'all', persistent: false } }), R, SCALE, false, 3);
    const bb = new FakeBackbone();
    c.beginIteration(bb);
    expect(new Set(bb.calls.map((x) => x.path))).toEqual(new Set([M0.path, M1.path, other.path]));
    expect(bb.held.get(other.path)).not.toEqual(W0.get(other.path));
    c.endIteration(bb, experts(TARGETS, 1));
    expectBits(bb.held.get(other.path)!, W0.get(other.path)!, 'non-target after the iteration');
    expectBits(c.mergedWeights().get(other.path)!, W0.get(other.path)!, 'non-target merged');
  });

  it('λ = 0 (policy without noise): the iteration\'s backbone is the clean one, bit for bit', () => {
    const W0 = baseWeights(TARGETS, 4);
    const c = new Cascade(TARGETS, TARGETS, W0, policy({ noise: null }), R, SCALE, false, 3);
    const bb = new FakeBackbone();
    c.beginIteration(bb);
    for (const m of TARGETS) expectBits(bb.held.get(m.path)!, W0.get(m.path)!, m.path);
  });
});

describe('Cascade: the rank-T·r export', () => {
  for (const [slow, alpha] of [['lookahead', 0.5], ['ema', 0.3]] as const) {
    it(`${slow}, α = ${alpha}: stackedAdapter's B·A is Σ c_t·B_t·A_t formed densely, and W0 + it is the backbone`, () => {
      const W0 = baseWeights(TARGETS, 31);
      const c = new Cascade(TARGETS, TARGETS, W0, policy({ alpha, slow, noise: uniformNoise(0.1) }), R, SCALE, false, 5);
      const bb = new FakeBackbone();
      const T = 3;
      for (let t = 1; t <= T; t++) { c.beginIteration(bb); c.endIteration(bb, experts(TARGETS, t)); }
      const coef = simulatedCoefficients(slow, alpha, T).map((x) => SCALE * x);
      for (const m of TARGETS) {
        const st = c.stackedAdapter(m.path, m);
        expect(st.r).toBe(T * R);
        expect(st.A.length).toBe(T * R * m.IN);
        expect(st.B.length).toBe(m.OUT * T * R);
        // lora_A = [A_1; …; A_T], exactly the experts' A.
        for (let t = 0; t < T; t++) expectBits(st.A.subarray(t * R * m.IN, (t + 1) * R * m.IN), experts(TARGETS, t + 1).get(m.path)!.A, `A_${t + 1}`);
        const got = new Float64Array(m.IN * m.OUT);
        for (let o = 0; o < m.OUT; o++) {
          for (let i = 0; i < m.IN; i++) {
            let d = 0;
            for (let k = 0; k < st.r; k++) d += st.B[o * st.r + k] * st.A[k * m.IN + i];
            got[m.layout === 'conv1d' ? i * m.OUT + o : o * m.IN + i] = d;
          }
        }
        const want = new Float64Array(m.IN * m.OUT);
        for (let t = 0; t < T; t++) {
          const d = dense(experts(TARGETS, t + 1).get(m.path)!, m, coef[t]);
          for (let i = 0; i < want.length; i++) want[i] += d[i];
        }
        // lora_B holds fl(c_t·B_t): one F32 rounding per element.
        expectAllClose(got, want, { atol: 1e-6, rtol: 1e-6 }, `stacked ${m.path}`);
        // The export is exact against the original base: W0 + B·A is the backbone (F32 accumulation apart).
        expectAllClose(bb.held.get(m.path)!, Float64Array.from(W0.get(m.path)!, (w, i) => w + got[i]), { atol: 2e-5, rtol: 1e-6 }, `W0 + BA ${m.path}`);
      }
    });
  }
});

describe('resolveConfig', () => {
  const refused = (partial: Record<string, unknown>, field: string, message: RegExp) => {
    let err: unknown;
    try {
      resolveConfig(partial as Partial<TrainingConfig>);
    } catch (e) {
      err = e;
    }
    expect(err, JSON.stringify(partial)).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
    expect((err as ConfigError).message).toMatch(message);
  };

  it('refuses COLA with α < 1 or with a LoRASC option; accepts α = 1', () => {
    refused({ method: 'cola', alpha: 0.5 }, 'alpha', /COLA merges whole experts/);
    refused({ method: 'cola', lambda: 0.1 }, 'lambda', /LoRASC option/);
    refused({ method: 'cola', slow: 'ema' }, 'slow', /LoRASC option/);
    refused({ method: 'cola', persistentNoise: true }, 'persistentNoise', /LoRASC option/);
    const c = resolveConfig({ method: 'cola', alpha: 1 });
    expect([c.alpha, c.lambda, c.slow, c.persistentNoise]).toEqual([1, 0, 'lookahead', false]);
  });

  it('refuses cascade options on single-adapter methods (lora with --alpha, ...)', () => {
    refused({ method: 'lora', alpha: 0.5 }, 'alpha', /cascade option; method lora/);
    refused({ method: 'lora', lambda: 0 }, 'lambda', /cascade option/);
    refused({ method: 'loraplus', iterationSteps: 10 }, 'iterationSteps', /cascade option; method loraplus/);
    refused({ method: 'dora', restartSchedule: true }, 'restartSchedule', /cascade option; method dora/);
  });

  it('refuses unknown options, out-of-range values and LoRA dropout with DoRA, naming the field', () => {
    refused({ method: 'lora', learningRate: 1e-3 }, 'learningRate', /is not a training option/);
    refused({ loraDropout: -0.1 }, 'loraDropout', /\[0, 1\)/);
    refused({ loraDropout: 1 }, 'loraDropout', /\[0, 1\)/);
    refused({ method: 'dora', loraDropout: 0.1 }, 'loraDropout', /DoRA/);
    refused({ method: 'lorasc', useDora: true, loraDropout: 0.05 }, 'loraDropout', /DoRA/);
    refused({ method: 'lorasc', alpha: 0 }, 'alpha', /\(0, 1\]/);
    refused({ method: 'lorasc', alpha: 1.5 }, 'alpha', /\(0, 1\]/);
    refused({ method: 'lorasc', lambda: -0.1 }, 'lambda', /\[0, 10\]/);
    refused({ method: 'sgd' }, 'method', /is not one of/);
    expect(() => resolveConfig({}, 'no-such-preset')).toThrow(ConfigError);
  });

  it('fills method defaults: LoRA+ ratio 16, DoRA flag and no dropout; LoRASC α = 1, λ = 0 has exactly COLA\'s cascade policy', () => {
    expect(resolveConfig({ method: 'loraplus' }).loraplusRatio).toBe(16);
    expect(resolveConfig({ method: 'loraplus', loraplusRatio: 1 }).loraplusRatio).toBe(1);
    expect(resolveConfig({ method: 'dora' }).useDora).toBe(true);
    expect(resolveConfig({ method: 'lora' }).loraDropout).toBe(0.05); // PEFT-style default
    expect(resolveConfig({ method: 'dora' }).loraDropout).toBe(0); // DoRA runs default to none
    const cola = adapterVariant('cola').cascade(resolveConfig({ method: 'cola' }));
    const lorasc = adapterVariant('lorasc').cascade(resolveConfig({ method: 'lorasc', alpha: 1, lambda: 0 }));
    expect(lorasc).toEqual(cola);
    expect(adapterVariant('lorasc').cascade(resolveConfig({ method: 'lorasc' }))).toEqual({
      alpha: 0.5, slow: 'lookahead', noise: { lambda: 0.05, form: 'uniform', scope: 'targets', persistent: false },
    });
    expect(adapterVariant('lora').cascade(resolveConfig({ method: 'lora' }))).toBeNull();
  });
});
