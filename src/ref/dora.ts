// dora reference — DoRA (Liu et al. 2024) around the LoRA product, the spec of dora_row_norm.wgsl,
// dora_scale.wgsl and dora_scale_backward.wgsl (docs/method.md#dora):
//   V = W + s·B·A in [out, in] terms;  norm[o] = ‖V[o,:]‖₂ (detached);
//   z = x·Wᵀ + s·(x·Aᵀ)·Bᵀ (src/ref/lora.ts with no bias);  y = (m / norm) ⊙ z + bias.
// z (N, OUT); m, norm, bias (OUT). The bias is not rescaled and, like W, never trained.
import { type LoraShape, loraDeltaAt, weightAt } from './lora';
import type { Arr } from './types';

export type DoraWeightShape = Pick<LoraShape, 'IN' | 'OUT' | 'R' | 'scale' | 'conv1d'>;
export type DoraScaleShape = Pick<LoraShape, 'N' | 'OUT'>;

/** (s·B·A)[o, i] + W(o, i): one element of V in [out, in] terms. */
export function doraV(w: Arr, loraA: Arr, loraB: Arr, o: number, i: number, s: DoraWeightShape): number {
  return weightAt(w, o, i, s) + s.scale * loraDeltaAt(loraA, loraB, o, i, s);
}

/** norm[o] = ‖V[o,:]‖₂, written `=`. */
export function doraRowNorm(norm: Arr, w: Arr, loraA: Arr, loraB: Arr, s: DoraWeightShape): void {
  for (let o = 0; o < s.OUT; o++) {
    let sum = 0;
    for (let i = 0; i < s.IN; i++) sum += doraV(w, loraA, loraB, o, i, s) ** 2;
    norm[o] = Math.sqrt(sum);
  }
}

/** y[n,o] = (m[o] / norm[o]) · z[n,o] + bias[o], written `=`. */
export function doraScaleForward(y: Arr, z: Arr, m: Arr, norm: Arr, bias: Arr | null, s: DoraScaleShape): void {
  for (let n = 0; n < s.N; n++) {
    for (let o = 0; o < s.OUT; o++) y[n * s.OUT + o] = (m[o] / norm[o]) * z[n * s.OUT + o] + (bias ? bias[o] : 0);
  }
}

/** norm detached (DoRA §4.3): dz = dy·m/norm (`=`); dm[o] += Σ_n dy[n,o]·z[n,o] / norm[o]. */
export function doraScaleBackward(dz: Arr, dm: Arr, dy: Arr, z: Arr, m: Arr, norm: Arr, s: DoraScaleShape): void {
  for (let o = 0; o < s.OUT; o++) {
    let acc = 0;
    for (let n = 0; n < s.N; n++) {
      dz[n * s.OUT + o] = dy[n * s.OUT + o] * (m[o] / norm[o]);
      acc += dy[n * s.OUT + o] * z[n * s.OUT + o];
    }
    dm[o] += acc / norm[o];
  }
}
