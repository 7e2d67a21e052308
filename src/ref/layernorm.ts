// layernorm references — the spec of layernorm_forward.wgsl, layernorm_backward.wgsl (dx) and
// layernorm_backward_params.wgsl (dw, db), as torch.nn.LayerNorm over the last dim C.
// x, y, dy, dx: (B, T, C) row-major, i.e. B·T rows of C; w, b, dw, db: (C); mean, rstd: (B, T).
import type { Arr } from './types';

export interface LayernormShape {
  B: number;
  /** Rows per batch item: sequence length (GPT-2) or P + 1 patches with [CLS] (ViT). */
  T: number;
  C: number;
  /** GPT-2 uses 1e-5 (layer_norm_epsilon), ViT 1e-12 (layer_norm_eps). */
  eps: number;
  /** Backward dx: accumulate dx += … (residual stream, as llm.c) instead of dx = …. */
  accumulateDx?: boolean;
}

/**
 * y = (x − mean)·rstd·w + b per row, with mean = Σx/C, var = Σ(x − mean)²/C (biased, as torch)
 * and rstd = 1/√(var + eps). Writes y, mean, rstd (=); mean and rstd are the backward's cache.
 */
export function layernormForward(
  y: Arr, mean: Arr, rstd: Arr, x: Arr, w: Arr, b: Arr, s: LayernormShape,
): void {
  const { C } = s;
  for (let r = 0; r < s.B * s.T; r++) {
    const o = r * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += x[o + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (x[o + i] - m) ** 2;
    v /= C;
    const rs = 1 / Math.sqrt(v + s.eps);
    for (let i = 0; i < C; i++) y[o + i] = (x[o + i] - m) * rs * w[i] + b[i];
    mean[r] = m;
    rstd[r] = rs;
  }
}

/**
 * Input gradient (llm.c layernorm_backward): with norm = (x − mean)·rstd and dnorm = w·dy,
 *   dx = rstd·(dnorm − mean_C(dnorm) − norm·mean_C(dnorm·norm)).
 * Writes dx (=), or accumulates (+=) when s.accumulateDx.
 */
export function layernormBackward(
  dx: Arr, dy: Arr, x: Arr, w: Arr, mean: Arr, rstd: Arr, s: LayernormShape,
): void {
  const { C } = s;
  for (let r = 0; r < s.B * s.T; r++) {
    const o = r * C;
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (x[o + i] - mean[r]) * rstd[r];
      const dnorm = w[i] * dy[o + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (x[o + i] - mean[r]) * rstd[r];
      const g = (w[i] * dy[o + i] - dnormMean - norm * dnormNormMean) * rstd[r];
      dx[o + i] = s.accumulateDx ? dx[o + i] + g : g;
    }
  }
}

/** Parameter gradients, accumulated (+=) over rows r = 0, 1, …: dw += Σ_r dy·norm, db += Σ_r dy. */
export function layernormBackwardParams(
  dw: Arr, db: Arr, dy: Arr, x: Arr, mean: Arr, rstd: Arr, s: LayernormShape,
): void {
  const { C } = s;
  for (let i = 0; i < C; i++) {
    let gw = 0;
    let gb = 0;
    for (let r = 0; r < s.B * s.T; r++) {
      const o = r * C;
      gw += dy[o + i] * (x[o + i] - mean[r]) * rstd[r];
      gb += dy[o + i];
    }
    dw[i] += gw;
    db[i] += gb;
  }
}
