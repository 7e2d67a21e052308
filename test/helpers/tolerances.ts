// Every GPU-vs-reference tolerance in one table, each with its reason. Use the narrowest row that fits.
import type { Tolerance } from './allclose';

export const TOL = {
  /** Exact integer or copy paths (gather, RNG bits, masks): nothing may differ. */
  exact: { atol: 0, rtol: 0 },
  /** One fp32 op per element (add, scale, axpy): SwiftShader rounds like the CPU, but fused multiply-add may not. */
  elementwise: { atol: 1e-6, rtol: 1e-6 },
  /** Transcendentals (tanh, erf, exp, log) differ by a few ulp between GPU builtins and Math.*. */
  transcendental: { atol: 1e-5, rtol: 1e-4 },
  /** Dot products of length K in fp32 with a different summation order than the reference: error ~ K·eps·|x||y|. */
  matmul: { atol: 1e-4, rtol: 1e-4 },
  /** Row reductions (mean, variance, softmax denominators) in tree order vs sequential order. */
  reduction: { atol: 1e-5, rtol: 1e-4 },
  /** Backward passes chain two or three reductions; error compounds. */
  backward: { atol: 1e-4, rtol: 1e-3 },
  /** Optimizer step: sqrt and division of tiny second moments amplify rounding. */
  optimizer: { atol: 1e-6, rtol: 1e-5 },
  /**
   * AdamW's second moment v = β2·v + (1 − β2)·g²: a sum of non-negative terms, so no cancellation and the
   * fp32 error stays relative (a few ulp per step). Its values are 1e-11..1e-3 here, below `optimizer`'s
   * atol, which would let a v off by 0.1% pass: relative only.
   */
  secondMoment: { atol: 0, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;
