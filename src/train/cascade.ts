// The cascade of COLA and LoRASC (docs/method.md#lorasc), kept on the CPU in F32: the original weights W0 of the
// modules involved, the slow update S, the total update D that the backbone carries (lookahead: D = S;
// ema: D_t = D_{t−1} + S_t), the persistent noise when that option is on, and the factors (A_t, B_t) of
// every finished expert, for rank growth and the exact rank-T·r export. The GPU only ever sees the
// backbone this class computes (setBaseWeight), so "the noise is discarded" is a plain fact here:
// the clean backbone is recomputed as W0 + D (+ P), never as W̃ − ε.
import type { CascadePolicy } from '../adapters/variant';
import { rngNormal, rngUniform } from '../ref/rng';
import { doraMerge, mergeDelta } from '../io/export';
import { addInto, stdOf, sum } from './delta';
import type { LinearModule } from './modules';
import { type CascadeFactor, type Spectrum, cascadeSpectrum, frobeniusOfProduct } from './rank';

export interface ExpertWeights {
  A: Float32Array; // [R, IN]
  B: Float32Array; // [OUT, R]
  m?: Float32Array; // DoRA magnitude [OUT]
}

export interface IterationReport {
  iteration: number; // 1-based, the one that just ended
  layers: {
    path: string;
    /** ‖ΔF_t‖_F of the expert that just finished. */
    fastNorm: number;
    /** ‖D‖_F: the accumulated update the backbone now carries. */
    slowNorm: number;
    spectrum: Spectrum | null; // null for DoRA cascades (not low-rank)
  }[];
}

interface Backbone {
  setBaseWeight(path: string, w: Float32Array): void;
}

export class Cascade {
  private readonly S = new Map<string, Float32Array>();
  private readonly D = new Map<string, Float32Array>();
  private readonly P = new Map<string, Float32Array>(); // persistent noise
  private readonly eps = new Map<string, Float32Array>(); // this iteration's noise
  private readonly noisy = new Map<string, Float32Array>(); // W̃ of this iteration (DoRA ΔF needs it)
  /** Finished experts per target module, in order. */
  readonly factors = new Map<string, { A: Float32Array; B: Float32Array }[]>();
  iteration = 0; // iterations finished

  constructor(
    readonly targets: LinearModule[],
    /** Modules that receive noise (targets, or every linear module). */
    readonly noised: LinearModule[],
    private readonly W0: ReadonlyMap<string, Float32Array>, // by module path
    readonly policy: CascadePolicy,
    readonly R: number,
    readonly scale: number, // s of the experts
    readonly useDora: boolean,
    private readonly seed: number,
  ) {
    for (const m of targets) {
      if (!W0.has(m.path)) throw new Error(`cascade: no base weight for ${m.path}`);
      this.S.set(m.path, new Float32Array(m.IN * m.OUT));
      this.D.set(m.path, new Float32Array(m.IN * m.OUT));
      this.factors.set(m.path, []);
    }
  }

  /** The clean backbone weight of a module now: W0 + D (+ P). */
  clean(path: string): Float32Array {
    const w0 = this.W0.get(path);
    if (!w0) throw new Error(`cascade: no base weight for ${path}`);
    return sum(w0, this.D.get(path), this.P.get(path));
  }

  private modulesTouched(): LinearModule[] {
    const byPath = new Map<string, LinearModule>();
    for (const m of [...this.targets, ...this.noised]) byPath.set(m.path, m);
    return [...byPath.values()];
  }

  /**
   * Starts iteration t = this.iteration + 1: draws ε_t ~ Noise(W0 + D) from a Philox stream keyed by
   * (seed, t) with one stream per module, and gives the model W̃ = W0 + D (+ P) + ε_t.
   */
  beginIteration(model: Backbone): void {
    const t = this.iteration + 1;
    this.eps.clear();
    this.noisy.clear();
    const noise = this.policy.noise;
    const noisedPaths = new Set(this.noised.map((m) => m.path));
    this.modulesTouched().forEach((m, index) => {
      const w = this.clean(m.path);
      if (noise && noisedPaths.has(m.path)) {
        const e = new Float32Array(w.length);
        const std = stdOf(w);
        const stream = { n: e.length, seedLo: this.seed >>> 0, seedHi: (0x4c5300 + t) >>> 0, offset: index };
        if (noise.form === 'uniform') {
          rngUniform(e, { ...stream, lo: -noise.lambda / 2, hi: noise.lambda / 2 });
          for (let k = 0; k < e.length; k++) e[k] = Math.fround(e[k] * std);
        } else {
          rngNormal(e, { ...stream, mean: 0, std: noise.lambda * std });
        }
        this.eps.set(m.path, e);
        addInto(w, e);
      }
      this.noisy.set(m.path, w);
      model.setBaseWeight(m.path, w);
    });
  }

  /**
   * Ends the iteration with the trained expert of every target module: ΔF_t = s·B·A (DoRA:
   * DoRAmerge(W̃, m, A, B) − W̃); S and D follow the slow rule; the model gets the clean backbone.
   */
  endIteration(model: Backbone, experts: ReadonlyMap<string, ExpertWeights>): IterationReport {
    const { alpha, slow } = this.policy;
    const t = this.iteration + 1;
    const layers: IterationReport['layers'] = [];
    for (const m of this.targets) {
      const ex = experts.get(m.path);
      if (!ex) throw new Error(`cascade: no expert weights for ${m.path}`);
      const dF = this.expertDelta(m, ex);
      const S = this.S.get(m.path) as Float32Array;
      const D = this.D.get(m.path) as Float32Array;
      if (slow === 'lookahead') {
        // S ← S + α·ΔF; D = S.
        addInto(S, dF, alpha);
        D.set(S);
      } else {
        // S_t = (1−α)·S_{t−1} + α·ΔF_t; D_t = D_{t−1} + S_t.
        for (let k = 0; k < S.length; k++) S[k] = (1 - alpha) * S[k] + alpha * dF[k];
        addInto(D, S);
      }
      this.factors.get(m.path)?.push({ A: ex.A.slice(), B: ex.B.slice() });
      layers.push({
        path: m.path,
        fastNorm: this.useDora ? frobenius(dF) : frobeniusOfProduct(ex.B, ex.A, this.R, m.OUT, m.IN, this.scale),
        slowNorm: frobenius(D),
        spectrum: this.useDora ? null : cascadeSpectrum(this.cascadeFactors(m.path, t), m.OUT, m.IN),
      });
    }
    if (this.policy.noise?.persistent) {
      for (const [path, e] of this.eps) {
        const p = this.P.get(path) ?? new Float32Array(e.length);
        addInto(p, e);
        this.P.set(path, p);
      }
    }
    this.iteration = t;
    for (const m of this.modulesTouched()) model.setBaseWeight(m.path, this.clean(m.path));
    this.eps.clear();
    this.noisy.clear();
    return { iteration: t, layers };
  }

  private expertDelta(m: LinearModule, ex: ExpertWeights): Float32Array {
    // ΔF = s·B·A alone: a merge into a zero matrix (each element's dot product in Float64, rounded once).
    if (!this.useDora) return mergeDelta(new Float32Array(m.IN * m.OUT), m.layout, m.IN, m.OUT, ex.B, ex.A, this.R, this.scale);
    if (!ex.m) throw new Error(`cascade: DoRA expert of ${m.path} has no magnitude`);
    const W = this.noisy.get(m.path) as Float32Array;
    const merged = doraMerge(W, m.layout, m.IN, m.OUT, ex.B, ex.A, this.R, this.scale, ex.m);
    for (let k = 0; k < merged.length; k++) merged[k] -= W[k];
    return merged;
  }

  /**
   * The coefficient of expert k (1-based) in D after T iterations: lookahead α·s; ema
   * s·(1 − (1−α)^(T−k+1)) (ΔF_k enters S_k with α and decays by (1−α) per iteration; D sums the S_t).
   */
  coefficient(k: number, T: number): number {
    const { alpha, slow } = this.policy;
    return slow === 'lookahead' ? alpha * this.scale : this.scale * (1 - (1 - alpha) ** (T - k + 1));
  }

  cascadeFactors(path: string, T = this.iteration): CascadeFactor[] {
    return (this.factors.get(path) ?? []).slice(0, T).map((f, i) => ({ A: f.A, B: f.B, r: this.R, coef: this.coefficient(i + 1, T) }));
  }

  /**
   * Whether D is exactly Σ_k c_k·B_k·A_k, so the cascade exports as one rank-T·r LoRA against the
   * original base: not for DoRA experts, not with persistent noise (the backbone then carries ε too).
   */
  get lowRankExact(): boolean {
    return !this.useDora && !this.policy.noise?.persistent;
  }

  /** Clean merged weights W0 + D (+ P) of every module the cascade touched, by module path. */
  mergedWeights(): Map<string, Float32Array> {
    return new Map(this.modulesTouched().map((m) => [m.path, this.clean(m.path)]));
  }

  /** The whole cascade as one LoRA of rank T·r: lora_B = [c_1 B_1 … c_T B_T], lora_A = [A_1; …; A_T]. */
  stackedAdapter(path: string, dims: { IN: number; OUT: number }): { A: Float32Array; B: Float32Array; r: number } {
    const fs = this.cascadeFactors(path);
    const r = fs.length * this.R;
    const A = new Float32Array(r * dims.IN);
    const B = new Float32Array(dims.OUT * r);
    fs.forEach((f, t) => {
      A.set(f.A, t * this.R * dims.IN);
      for (let o = 0; o < dims.OUT; o++) {
        for (let k = 0; k < this.R; k++) B[o * r + t * this.R + k] = f.coef * f.B[o * this.R + k];
      }
    });
    return { A, B, r };
  }

  /** Everything needed to resume (checkpoints): S, D, P and the factors, as flat F32 tensors. */
  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [p, v] of this.S) out.set(`cascade.S.${p}`, v.slice());
    for (const [p, v] of this.D) out.set(`cascade.D.${p}`, v.slice());
    for (const [p, v] of this.P) out.set(`cascade.P.${p}`, v.slice());
    for (const [p, fs] of this.factors) fs.forEach((f, t) => { out.set(`cascade.A.${t}.${p}`, f.A.slice()); out.set(`cascade.B.${t}.${p}`, f.B.slice()); });
    return out;
  }

  restore(tensors: ReadonlyMap<string, Float32Array>, iteration: number): void {
    this.iteration = iteration;
    const get = (k: string) => {
      const v = tensors.get(k);
      if (!v) throw new Error(`checkpoint: cascade tensor ${k} is missing`);
      return v;
    };
    for (const m of this.targets) {
      (this.S.get(m.path) as Float32Array).set(get(`cascade.S.${m.path}`));
      (this.D.get(m.path) as Float32Array).set(get(`cascade.D.${m.path}`));
      const fs: { A: Float32Array; B: Float32Array }[] = [];
      for (let t = 0; t < iteration; t++) fs.push({ A: get(`cascade.A.${t}.${m.path}`).slice(), B: get(`cascade.B.${t}.${m.path}`).slice() });
      this.factors.set(m.path, fs);
    }
    this.P.clear();
    for (const [k, v] of tensors) if (k.startsWith('cascade.P.')) this.P.set(k.slice('cascade.P.'.length), v.slice());
  }
}

function frobenius(x: Float32Array): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k] * x[k];
  return Math.sqrt(s);
}
