// gradnorm reference — the global gradient norm and clip coefficient of
// torch.nn.utils.clip_grad_norm_ (norm_type 2): ‖g‖₂ = √(Σ_tensors Σ_i g_i²),
// clip = min(1, maxNorm / (‖g‖₂ + 1e-6)). The spec of gradnorm_partial.wgsl and gradnorm_finalize.wgsl;
// sums accumulate in Float64, so the reference is at least as accurate as any GPU summation order.
import type { Arr } from './types';

export interface GradNormPartialShape {
  n: number;
  xOffset: number;
  partialOffset: number;
  /** Elements per partial sum: the kernel's WG · PER_THREAD. */
  chunk: number;
  /** Test hook: fold the workgroup grid above this many groups per dimension (default 65535). */
  maxWorkgroupsPerDim?: number;
}

export interface GradNormFinalizeShape {
  count: number;
  maxNorm: number;
}

/** partials[partialOffset + w] = Σ x[xOffset + i]² over chunk w; writes ⌈n/chunk⌉ partials. */
export function gradnormPartial(partials: Arr, x: Arr, s: GradNormPartialShape): void {
  for (let w = 0; w * s.chunk < s.n; w++) {
    let acc = 0;
    for (let i = w * s.chunk; i < Math.min(s.n, (w + 1) * s.chunk); i++) acc += x[s.xOffset + i] ** 2;
    partials[s.partialOffset + w] = acc;
  }
}

/** out = [‖g‖₂, min(1, maxNorm / (‖g‖₂ + 1e-6))] from partials[0..count). */
export function gradnormFinalize(out: Arr, partials: Arr, s: GradNormFinalizeShape): void {
  let acc = 0;
  for (let w = 0; w < s.count; w++) acc += partials[w];
  const norm = Math.sqrt(acc);
  out[0] = norm;
  out[1] = Math.min(1, s.maxNorm / (norm + 1e-6));
}

/** Both passes at once over several tensors: out = [‖g‖₂, clip coefficient]. */
export function gradnorm(out: Arr, xs: readonly Arr[], maxNorm: number): void {
  let acc = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) acc += x[i] ** 2;
  const partial = Float64Array.of(acc);
  gradnormFinalize(out, partial, { count: 1, maxNorm });
}
