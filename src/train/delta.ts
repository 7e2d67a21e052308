// Dense updates of one linear module on the CPU, in the weight's storage layout: GPT-2 Conv1D stores
// W [in, out] (element (o, i) at i·OUT + o), nn.Linear W [out, in] (at o·IN + i). Every element's dot
// product over R runs in Float64 and is rounded to F32 once, so merges are as exact as F32 allows.
export type WeightLayout = 'conv1d' | 'linear';

export interface ModuleDims {
  IN: number;
  OUT: number;
  layout: WeightLayout;
}

/** coef · B·A ([OUT, R]·[R, IN]) laid out like the module's weight. */
export function loraDelta(A: Float32Array, B: Float32Array, R: number, d: ModuleDims, coef: number): Float32Array {
  const { IN, OUT } = d;
  if (A.length !== R * IN || B.length !== OUT * R) {
    throw new Error(`LoRA delta: A has ${A.length} values (expected ${R}×${IN}), B ${B.length} (expected ${OUT}×${R})`);
  }
  const out = new Float32Array(IN * OUT);
  const row = new Float64Array(IN);
  for (let o = 0; o < OUT; o++) {
    row.fill(0);
    for (let k = 0; k < R; k++) {
      const b = B[o * R + k];
      if (b === 0) continue;
      const a = k * IN;
      for (let i = 0; i < IN; i++) row[i] += b * A[a + i];
    }
    if (d.layout === 'linear') for (let i = 0; i < IN; i++) out[o * IN + i] = coef * row[i];
    else for (let i = 0; i < IN; i++) out[i * OUT + o] = coef * row[i];
  }
  return out;
}

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
