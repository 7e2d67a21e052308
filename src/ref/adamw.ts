// adamw reference — one PyTorch AdamW step (torch.optim.AdamW, single-tensor path), the spec of
// adamw.wgsl. param, m, v, grad are flat arrays that mirror each other; a parameter group is a
// contiguous range [offset, offset + n) with its own lr and weight decay.
import type { Arr } from './types';

/** Hyper-parameters shared by every group of one step. t counts steps from 1. */
export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
  t: number;
  /** Multiplies the gradient before the moments (global-norm clipping); default 1. */
  gradScale?: number;
}

export interface AdamWGroup {
  offset: number;
  length: number;
  lr: number;
  weightDecay: number;
}

/** One dispatch of adamw.wgsl: a group's range and rates plus the shared hyper-parameters. */
export interface AdamWShape extends AdamWHyper {
  n: number;
  offset: number;
  lr: number;
  weightDecay: number;
  /** Test hook: fold the workgroup grid above this many groups per dimension (default 65535). */
  maxWorkgroupsPerDim?: number;
}

/**
 * The scalars PyTorch computes in Python (Float64) before touching the tensors:
 * decay = 1 − lr·wd, stepSize = lr / (1 − β1^t), bc2Sqrt = √(1 − β2^t).
 */
export function adamwScalars(s: AdamWShape): { decay: number; stepSize: number; bc2Sqrt: number } {
  const bc1 = 1 - s.beta1 ** s.t;
  const bc2 = 1 - s.beta2 ** s.t;
  return { decay: 1 - s.lr * s.weightDecay, stepSize: s.lr / bc1, bc2Sqrt: Math.sqrt(bc2) };
}

/** Updates param, m, v in place over [offset, offset + n). */
export function adamw(param: Arr, m: Arr, v: Arr, grad: Arr, s: AdamWShape): void {
  const { decay, stepSize, bc2Sqrt } = adamwScalars(s);
  const { beta1, beta2, eps } = s;
  const scale = s.gradScale ?? 1;
  for (let i = 0; i < s.n; i++) {
    const j = s.offset + i;
    const g = grad[j] * scale;
    const p = param[j] * decay;                       // decoupled weight decay first
    m[j] = beta1 * m[j] + (1 - beta1) * g;
    v[j] = beta2 * v[j] + (1 - beta2) * g * g;
    const denom = Math.sqrt(v[j]) / bc2Sqrt + eps;    // √v̂ + eps, as PyTorch's denom
    param[j] = p - stepSize * (m[j] / denom);
  }
}

/** One optimizer step over every parameter group (the host helper issues one dispatch each). */
export function adamwGroups(param: Arr, m: Arr, v: Arr, grad: Arr, groups: readonly AdamWGroup[], h: AdamWHyper): void {
  for (const g of groups) {
    adamw(param, m, v, grad, { ...h, n: g.length, offset: g.offset, lr: g.lr, weightDecay: g.weightDecay });
  }
}
