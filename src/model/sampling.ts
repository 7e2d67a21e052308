// Next-token sampling on the CPU, from one row of logits (V floats read back per generation step):
// greedy (argmax), temperature, top-k; a seeded PRNG makes every run repeatable. The maths follows
// HF transformers' logits warpers: p = softmax(logits / τ) restricted to the k largest logits.
import type { Arr } from '../ref/types';

export interface SamplingOptions {
  /** τ > 0 divides the logits before the softmax; 0 (the default) means greedy decoding. */
  temperature?: number;
  /** Keep only the k largest logits (ties broken by lower id); 0 or absent keeps all V. */
  topK?: number;
}

// The PRNG lives in ref/ so io (dataset shuffles) and model (sampling) share it without importing each other.
export { createRng } from '../ref/seeded';

function checkLogits(logits: Arr): void {
  if (logits.length === 0) throw new Error('sampling: empty logits');
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i])) throw new Error(`sampling: logit ${i} is NaN`);
  }
}

/** The id of the largest logit; the lowest such id on ties (as torch.argmax). */
export function argmax(logits: Arr): number {
  checkLogits(logits);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Ids of the k largest logits, largest first, ties by lower id. k ≥ V (or 0) gives every id. */
export function topKIndices(logits: Arr, k: number): number[] {
  const ids = Array.from(logits, (_, i) => i);
  ids.sort((a, b) => (logits[b] - logits[a]) || (a - b));
  return k > 0 && k < ids.length ? ids.slice(0, k) : ids;
}

function checkOptions(o: SamplingOptions): void {
  const tau = o.temperature ?? 0;
  if (!(tau >= 0) || !Number.isFinite(tau)) throw new Error(`sampling: temperature=${o.temperature} must be a finite number ≥ 0`);
  const k = o.topK ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new Error(`sampling: topK=${o.topK} must be an integer ≥ 0`);
}

/**
 * The distribution a sample is drawn from: softmax((logits − max)/τ) over the top-k ids, 0 elsewhere
 * (Float64; the max is subtracted first so small τ cannot overflow exp). τ = 0 puts all mass on argmax.
 */
export function samplingProbs(logits: Arr, o: SamplingOptions = {}): Float64Array {
  checkLogits(logits);
  checkOptions(o);
  const p = new Float64Array(logits.length);
  const tau = o.temperature ?? 0;
  if (tau === 0) {
    p[argmax(logits)] = 1;
    return p;
  }
  const keep = topKIndices(logits, o.topK ?? 0);
  const max = logits[keep[0]];
  let sum = 0;
  for (const i of keep) {
    p[i] = Math.exp((logits[i] - max) / tau);
    sum += p[i];
  }
  for (const i of keep) p[i] /= sum;
  return p;
}

/** One token: argmax when τ = 0 (no random number drawn), else one inverse-CDF draw from samplingProbs. */
export function sampleToken(logits: Arr, o: SamplingOptions, rng: () => number): number {
  if ((o.temperature ?? 0) === 0) {
    checkOptions(o);
    return argmax(logits);
  }
  const p = samplingProbs(logits, o);
  const u = rng();
  let acc = 0, last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    acc += p[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // u within rounding of 1: the last id with mass
}
