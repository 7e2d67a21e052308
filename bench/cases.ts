// The benchmark's matmul cases: square sizes and the products of one GPT-2 (small) block at T = 128.
import type { MatmulShape } from '../src/ref/matmul';
import type { LlamaCaseResult } from './llama';
import type { PackedResult } from './packed';

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
  /** The engine's matmul variant for this product on this device (matmul_variants.ts ids). */
  variant: string;
  engineMs: number;
  tfjsMs: number;
  engineGflops: number;
  tfjsGflops: number;
  ratio: number;
  maxAbsDiff: number;
  /** Each rep's ms per product (medians above), interleaved engine/tfjs with the order alternating. */
  engineRepsMs?: number[];
  tfjsRepsMs?: number[];
  /**
   * CPU ms per product of Chromium's GPU process, where SwiftShader runs both engines' shaders (bench/cpu.ts;
   * medians, the same reps): the work each side's kernels cost, far less moved by other load than wall time.
   * Absent where the process cannot be read (not Linux).
   */
  engineCpuMs?: number;
  tfjsCpuMs?: number;
  cpuRatio?: number;
}

/**
 * One LoRA training step of a synthetic GPT-2 (HS 64 as GPT-2's heads, n_inner 4C, tied head), LoRA
 * r on c_attn, c_proj (attention and MLP) and c_fc: forward, mean cross-entropy, backward to A and B, AdamW.
 */
export interface TrainCase {
  name: string;
  C: number; // n_embd
  L: number; // n_layer
  NH: number; // n_head
  B: number;
  T: number;
  V: number; // vocab_size
  R: number; // LoRA rank
}

const train = (C: number, L: number, B: number, T: number): TrainCase =>
  ({ name: `C${C} L${L} B${B} T${T}`, C, L, NH: C / 64, B, T, V: 1000, R: 8 });

/**
 * The default cases, smallest first (`--quick` runs only that one): the base, twice the tokens at T 128, twice
 * the width. Sized so the training part finishes in a few minutes on SwiftShader (2 cores).
 */
export const TRAIN_CASES: TrainCase[] = [train(128, 2, 4, 64), train(128, 2, 4, 128), train(256, 2, 4, 64)];

/** Deeper and larger stacks, run only when named with `--case` (minutes per step on SwiftShader). */
export const EXTRA_TRAIN_CASES: TrainCase[] = [train(128, 4, 8, 64), train(256, 4, 8, 128)];

export interface TrainProfile {
  /** An empty submit + 4-byte readback, subtracted from each dispatch's time. */
  emptySubmitMs: number;
  dispatches: number;
  /** Milliseconds per step by phase and kernel, largest first. */
  kernels: { name: string; ms: number; dispatches: number }[];
}

export interface TrainCaseResult {
  name: string;
  C: number;
  L: number;
  NH: number;
  B: number;
  T: number;
  V: number;
  R: number;
  tokens: number; // B·T per step
  trainable: number; // LoRA parameters
  engineMs: number; // median ms per step (step + AdamW, synchronised)
  tfjsMs: number;
  engineTokensPerS: number;
  tfjsTokensPerS: number;
  ratio: number; // tfjsMs / engineMs: > 1 means the engine is faster
  engineLoss0: number; // first step, same weights and batch
  tfjsLoss0: number;
  lossDiff: number;
  gradMaxAbsDiff: number; // over every A and B element, first step
  gradMaxAbs: number;
  engineDispatches: number; // compute dispatches per step, AdamW excluded
  tfjsKernels: number; // kernels tfjs runs per step (Adam included)
  engineRepsMs: number[];
  tfjsRepsMs: number[];
  profile?: TrainProfile;
  /** The matmul variants the engine's step used on this device. */
  variants?: string[];
}

export interface BenchReport {
  adapter: string;
  userAgent: string;
  kernelKeys: Record<string, string>;
  results: CaseResult[];
  train: TrainCaseResult[];
  /** The Llama block-stack row (bench/llama.ts). */
  llama?: LlamaCaseResult[];
  /** Frozen weights BF16-packed vs F32: GPU bytes and step time (bench/packed.ts). */
  packed?: PackedResult[];
}
