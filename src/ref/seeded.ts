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
