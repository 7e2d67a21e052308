// A tiny deterministic generator for self-checks and benchmarks (values in [−1, 1)); tests use
// test/helpers/random.ts. Quality is irrelevant here: the same inputs on every run is what matters.
export function seededUniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x / 4294967296) * 2 - 1;
  }
  return out;
}

/** mulberry32: a small, fast 32-bit PRNG with good statistics; uniform in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
