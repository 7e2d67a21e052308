// swiglu references — the spec of swiglu_forward.wgsl and swiglu_backward.wgsl, the elementwise middle
// of the Llama/Qwen gated MLP  down_proj(silu(gate_proj(x)) * up_proj(x))  (hidden_act "silu"):
//   h = silu(g) ⊙ u,  silu(g) = g·σ(g),  σ(g) = 1/(1 + e^(−g))
//   dg = dh ⊙ u ⊙ silu'(g),  silu'(g) = σ(g)·(1 + g·(1 − σ(g))),   du = dh ⊙ silu(g)
// g, u, h, dh, dg, du: n = B·T·I elements (gate_proj and up_proj outputs, each (B, T, I)); the
// matmuls around it are the existing matmul kernels.
import type { Arr } from './types';

export interface SwigluShape {
  /** Elements: B·T·intermediate_size. */
  n: number;
  /** Backward only: dg += …, du += … instead of =. */
  accumulate?: boolean;
}

const sigmoid = (g: number): number => 1 / (1 + Math.exp(-g));

/** h = silu(g)·u (=). g and u are the backward's cache (the two matmul outputs). */
export function swigluForward(h: Arr, g: Arr, u: Arr, s: SwigluShape): void {
  for (let i = 0; i < s.n; i++) h[i] = g[i] * sigmoid(g[i]) * u[i];
}

/** dg = dh·u·silu'(g), du = dh·silu(g) (= or += when s.accumulate). */
export function swigluBackward(dg: Arr, du: Arr, dh: Arr, g: Arr, u: Arr, s: SwigluShape): void {
  for (let i = 0; i < s.n; i++) {
    const sg = sigmoid(g[i]);
    const a = dh[i] * u[i] * sg * (1 + g[i] * (1 - sg));
    const b = dh[i] * g[i] * sg;
    dg[i] = s.accumulate ? dg[i] + a : a;
    du[i] = s.accumulate ? du[i] + b : b;
  }
}
