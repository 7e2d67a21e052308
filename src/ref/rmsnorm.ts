// rmsnorm references — the spec of rmsnorm_forward.wgsl, rmsnorm_backward.wgsl (dx) and
// rmsnorm_backward_params.wgsl (dw), as HF LlamaRMSNorm / Qwen2RMSNorm / Qwen3RMSNorm:
//   y = (x · rsqrt(mean(x²) + eps)) · w      statistics in float32, the weight multiplied last.
// x, y, dy, dx: `rows` rows of C, row-major; w, dw: (C); rstd: (rows).
// Row norm (input_layernorm, post_attention_layernorm, model.norm): rows = B·T, C = hidden_size.
// Qwen3's per-head q_norm / k_norm: rows = B·T·NH (or NKV), C = HS — a head is a contiguous row of
// the (B, T, NH, HS) q_proj / k_proj output, so the same kernels serve both.
import type { Arr } from './types';

export interface RmsnormShape {
  /** B·T for a hidden-state norm, B·T·NH for a per-head q/k norm. */
  rows: number;
  /** Normalised width: hidden_size, or head_dim for a per-head norm. */
  C: number;
  /** rms_norm_eps: Llama-2 1e-5, Llama-3 and Qwen 1e-6. */
  eps: number;
  /** Backward dx: accumulate dx += … (residual stream) instead of dx = …. */
  accumulateDx?: boolean;
}

/** y = (x·rstd)·w per row with rstd = 1/√(Σx²/C + eps). Writes y and rstd (=); rstd is the backward's cache. */
export function rmsnormForward(y: Arr, rstd: Arr, x: Arr, w: Arr, s: RmsnormShape): void {
  const { C } = s;
  for (let r = 0; r < s.rows; r++) {
    const o = r * C;
    let sq = 0;
    for (let i = 0; i < C; i++) sq += x[o + i] * x[o + i];
    const rs = 1 / Math.sqrt(sq / C + s.eps);
    for (let i = 0; i < C; i++) y[o + i] = x[o + i] * rs * w[i];
    rstd[r] = rs;
  }
}

/**
 * Input gradient: with n = x·rstd and dn = w·dy (no mean to subtract, unlike LayerNorm),
 *   dx = rstd·(dn − n·mean_C(dn·n)).
 * Writes dx (=), or accumulates (+=) when s.accumulateDx.
 */
export function rmsnormBackward(dx: Arr, dy: Arr, x: Arr, w: Arr, rstd: Arr, s: RmsnormShape): void {
  const { C } = s;
  for (let r = 0; r < s.rows; r++) {
    const o = r * C;
    let dnn = 0;
    for (let i = 0; i < C; i++) dnn += w[i] * dy[o + i] * x[o + i] * rstd[r];
    dnn /= C;
    for (let i = 0; i < C; i++) {
      const g = (w[i] * dy[o + i] - x[o + i] * rstd[r] * dnn) * rstd[r];
      dx[o + i] = s.accumulateDx ? dx[o + i] + g : g;
    }
  }
}

/** Weight gradient, accumulated (+=) over rows r = 0, 1, …: dw += Σ_r dy·x·rstd. */
export function rmsnormBackwardParams(dw: Arr, dy: Arr, x: Arr, rstd: Arr, s: RmsnormShape): void {
  const { C } = s;
  for (let i = 0; i < C; i++) {
    let gw = 0;
    for (let r = 0; r < s.rows; r++) gw += dy[r * C + i] * x[r * C + i] * rstd[r];
    dw[i] += gw;
  }
}
