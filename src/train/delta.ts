// Small F32 helpers of the cascade (src/train/cascade.ts): in-place and out-of-place sums of weight
// matrices, and NoisyTune's std. Dense LoRA deltas come from src/io/export (mergeDelta, doraMerge).
export function addInto(target: Float32Array, x: Float32Array, coef = 1): void {
  for (let k = 0; k < target.length; k++) target[k] += coef === 1 ? x[k] : coef * x[k];
}

export function sum(a: Float32Array, ...rest: (Float32Array | undefined)[]): Float32Array {
  const out = a.slice();
  for (const r of rest) if (r) addInto(out, r);
  return out;
}

/** Unbiased standard deviation (torch.std default), the scale of NoisyTune's noise. */
export function stdOf(W: Float32Array): number {
  let mean = 0;
  for (let k = 0; k < W.length; k++) mean += W[k];
  mean /= W.length;
  let v = 0;
  for (let k = 0; k < W.length; k++) v += (W[k] - mean) ** 2;
  return W.length > 1 ? Math.sqrt(v / (W.length - 1)) : 0;
}
