// Deterministic data order: a seeded train/validation split, and one seeded permutation per epoch so that a
// resumed run (seed, epoch, step) sees exactly the batches the original run would have seen (docs/reliability.md#checkpoints-and-exact-resume). All randomness is mulberry32 (src/model/sampling.ts) driving a Fisher–Yates shuffle.
import { createRng } from '../../ref/seeded';
import { DatasetError } from './errors';

/** A uniformly random permutation of 0..n-1 from `rng` (Fisher–Yates, from the end). */
function permutation(n: number, rng: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Mixes (seed, stream) into one 32-bit seed (murmur3 fmix32), so nearby epochs get unrelated orders. */
function mixSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new DatasetError('DATA_ARGS', 'split', `${name}=${v} must be an integer in [0, 2^32)`);
}

/**
 * Splits `items` into train and validation sets: round(n · valFraction) validation items, at least 1 when
 * valFraction > 0 and n ≥ 2, and always at least 1 training item. Both keep the input order.
 */
export function splitTrainVal<T>(items: T[], valFraction: number, seed: number): { train: T[]; val: T[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new DatasetError('DATA_ARGS', 'split', `valFraction=${valFraction} must be in [0, 1)`);
  checkCount('seed', seed);
  const n = items.length;
  let nVal = Math.round(n * valFraction);
  if (valFraction > 0 && n >= 2) nVal = Math.min(Math.max(nVal, 1), n - 1);
  else if (n < 2) nVal = 0;
  const isVal = new Uint8Array(n);
  const p = permutation(n, createRng(mixSeed(seed, 0xffffffff)));
  for (let k = 0; k < nVal; k++) isVal[p[k]] = 1;
  const train: T[] = [];
  const val: T[] = [];
  items.forEach((it, i) => (isVal[i] ? val : train).push(it));
  return { train, val };
}

/** The order of the n training items in `epoch` (0-based): a function of (n, seed, epoch) only. */
export function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  checkCount('n', n);
  checkCount('seed', seed);
  checkCount('epoch', epoch);
  return permutation(n, createRng(mixSeed(seed, epoch)));
}

/** Consecutive batches of `order` (views, no copies); the last short batch is dropped when `dropLast`. */
export function batches(order: Uint32Array, batchSize: number, dropLast: boolean): Uint32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DatasetError('DATA_ARGS', 'batches', `batchSize=${batchSize} must be an integer ≥ 1`);
  const out: Uint32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    if (dropLast && i + batchSize > order.length) break;
    out.push(order.subarray(i, Math.min(i + batchSize, order.length)));
  }
  return out;
}
