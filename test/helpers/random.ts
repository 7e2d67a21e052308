// Seeded test inputs (mulberry32): the same numbers on every run and every machine.
import { createRng } from '../../src/model/sampling';

/** The same mulberry32 generator the sampler uses (src/model/sampling.ts). */
export const mulberry32 = createRng;

export function uniformF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export function uniformF64(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from(uniformF32(n, seed, lo, hi));
}

export function randomInts(n: number, seed: number, max: number): Uint32Array {
  const r = mulberry32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * max);
  return out;
}
