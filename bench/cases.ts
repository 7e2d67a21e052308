// The benchmark's matmul cases: square sizes and the products of one GPT-2 (small) block at T = 128.
import type { MatmulShape } from '../src/ref/matmul';

export interface MatmulCase {
  name: string;
  shape: MatmulShape;
}

const C = 768; // GPT-2 small n_embd
const T = 128; // tokens per step (B·T)

export const SQUARE_CASES: MatmulCase[] = [256, 512, 1024].map((n) => ({
  name: `square ${n}`,
  shape: { M: n, N: n, K: n },
}));

// Conv1D weights are (in, out), so the forward is x·W (NN); the input gradient dy·Wᵀ (NT) and the
// weight gradient xᵀ·dy (TN) are the other two products of a training step.
export const GPT2_CASES: MatmulCase[] = [
  { name: 'attn.c_attn  x·W', shape: { M: T, N: 3 * C, K: C } },
  { name: 'attn.c_proj  x·W', shape: { M: T, N: C, K: C } },
  { name: 'mlp.c_fc     x·W', shape: { M: T, N: 4 * C, K: C } },
  { name: 'mlp.c_proj   x·W', shape: { M: T, N: C, K: 4 * C } },
  { name: 'mlp.c_fc     dy·Wᵀ', shape: { M: T, N: C, K: 4 * C, transB: true } },
  { name: 'mlp.c_fc     xᵀ·dy', shape: { M: C, N: 4 * C, K: T, transA: true } },
];

export const flops = (s: MatmulShape): number => 2 * s.M * s.N * s.K * (s.batch ?? 1);

export interface CaseResult {
  name: string;
  M: number;
  N: number;
  K: number;
  layout: string;
  engineMs: number;
  tfjsMs: number;
  engineGflops: number;
  tfjsGflops: number;
  ratio: number;
  maxAbsDiff: number;
}

export interface BenchReport {
  adapter: string;
  userAgent: string;
  kernelKeys: Record<string, string>;
  results: CaseResult[];
}
