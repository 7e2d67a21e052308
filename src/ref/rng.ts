// rng reference — Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011; Random123's philox4x32_R with R = 10), the spec of rng_uniform.wgsl and
// rng_normal.wgsl. All arithmetic is on u32 words through Math.imul and 16-bit halves, so it is
// exact in JavaScript doubles, and it mirrors the WGSL (which has no 64-bit integers) step for step.
//
// Stream layout (shared with the shaders): key = (seedLo, seedHi); element i is word (i mod 4) of
// Philox(counter = (ctr0 + ⌊i/4⌋ mod 2³², ctr1, ctr2, ctr3)); the host API sets ctr = (0, offset, 0, 0).
import type { Arr } from './types';

export interface RngShape {
  n: number;
  seedLo: number;
  seedHi: number;
  /** Stream number: the second counter word. Different offsets never share a block. */
  offset: number;
  /** Full counter base (ctr0..ctr3); overrides offset. For known-answer tests and raw use. */
  counter?: readonly [number, number, number, number];
  /** Test hook: fold the workgroup grid above this many groups per dimension (default 65535). */
  maxWorkgroupsPerDim?: number;
}

export interface RngUniformShape extends RngShape { lo?: number; hi?: number; rawBits?: boolean }
export interface RngNormalShape extends RngShape { mean?: number; std?: number }

const M0 = 0xd2511f53, M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9, W1 = 0xbb67ae85;

/** Splits a 64-bit seed into the two key words. */
export function splitSeed(seed: bigint | number): { seedLo: number; seedHi: number } {
  const s = BigInt.asUintN(64, BigInt(seed));
  return { seedLo: Number(s & 0xffffffffn), seedHi: Number(s >> 32n) };
}

export function counterBase(s: RngShape): [number, number, number, number] {
  return s.counter ? [...s.counter] : [0, s.offset >>> 0, 0, 0];
}

/** [hi, lo] of the 64-bit product of two u32, from 16-bit halves as in the WGSL. */
export function mulhilo(a: number, b: number): [number, number] {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;                     // < 2³², exact in doubles
  const mid = Math.floor((a0 * b0) / 65536) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = (a1 * b1 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}

/** Philox4x32-10 block function: 10 rounds, key bumped by the Weyl constants between rounds. */
export function philox4x32_10(counter: readonly number[], key: readonly number[]): Uint32Array {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0);
  let k0 = key[0] >>> 0, k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const [hi0, lo0] = mulhilo(M0, c0);
    const [hi1, lo1] = mulhilo(M1, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return Uint32Array.of(c0, c1, c2, c3);
}

/** Calls fn(i, words) for each 4-element block i of the stream. */
function forEachBlock(s: RngShape, fn: (base: number, w: Uint32Array) => void): void {
  const [c0, c1, c2, c3] = counterBase(s);
  for (let b = 0; 4 * b < s.n; b++) fn(4 * b, philox4x32_10([(c0 + b) >>> 0, c1, c2, c3], [s.seedLo, s.seedHi]));
}

/** The raw Philox words, element i = word i mod 4 of block ⌊i/4⌋. */
export function rngBits(out: Uint32Array, s: RngShape): void {
  forEachBlock(s, (base, w) => {
    for (let j = 0; j < 4 && base + j < s.n; j++) out[base + j] = w[j];
  });
}

/** u = (w >> 8)·2⁻²⁴ ∈ [0, 1); out = lo + (hi − lo)·u in f32 ops, and a result equal to hi becomes lo. */
export function rngUniform(out: Arr, s: RngUniformShape): void {
  const f = Math.fround;
  const lo = f(s.lo ?? 0), hi = f(s.hi ?? 1), range = f(hi - lo);
  forEachBlock(s, (base, w) => {
    for (let j = 0; j < 4 && base + j < s.n; j++) {
      const u = (w[j] >>> 8) / 16777216;
      const x = f(lo + f(range * u));
      out[base + j] = x >= hi ? lo : x;
    }
  });
}

/**
 * Box–Muller on word pairs (w0, w1) and (w2, w3): u1 = ((w0 >> 8) + 1)·2⁻²⁴ ∈ (0, 1] (never 0),
 * θ = π(2·(w1 >> 8)·2⁻²⁴ − 1) ∈ [−π, π), r = √(−2 ln u1), z = (r cos θ, r sin θ). Float64 Math.*: the
 * shader's own log/sin/cos series must agree with these to a few f32 ulps.
 */
export function rngNormal(out: Arr, s: RngNormalShape): void {
  const mean = s.mean ?? 0, std = s.std ?? 1;
  forEachBlock(s, (base, w) => {
    const z = new Float64Array(4);
    for (let p = 0; p < 4; p += 2) {
      const u1 = ((w[p] >>> 8) + 1) / 16777216;
      const theta = Math.PI * (2 * ((w[p + 1] >>> 8) / 16777216) - 1);
      const r = Math.sqrt(-2 * Math.log(u1));
      z[p] = r * Math.cos(theta);
      z[p + 1] = r * Math.sin(theta);
    }
    for (let j = 0; j < 4 && base + j < s.n; j++) out[base + j] = mean + std * z[j];
  });
}
