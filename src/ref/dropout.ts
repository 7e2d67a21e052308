// dropout reference — the spec of dropout_apply.wgsl: inverted dropout with an explicit uniform mask
// u ∈ [0, 1) (from the Philox stream, src/ref/rng.ts): out[i] = x[i]·scale if u[i] ≥ p else 0, with
// scale = 1/(1 − p) rounded to f32 once (as the kernel's uniform). ACCUMULATE adds instead (backward:
// dx += keep ⊙ g, the same mask).
import type { Arr } from './types';

export interface DropoutShape {
  n: number;
  p: number; // drop probability, 0 ≤ p < 1
  accumulate?: boolean;
  /** Test hook: fold the workgroup grid above this many groups per dimension (default 65535). */
  maxGroupsPerDim?: number;
}

/** 1/(1 − p) as the kernel receives it (an f32 uniform). */
export const dropoutScale = (p: number): number => Math.fround(1 / (1 - p));

export function dropoutApply(out: Arr, x: Arr, u: Arr, s: DropoutShape): void {
  const scale = dropoutScale(s.p), p = Math.fround(s.p);
  for (let i = 0; i < s.n; i++) {
    const v = u[i] >= p ? Math.fround(x[i] * scale) : 0;
    out[i] = s.accumulate ? out[i] + v : v;
  }
}
