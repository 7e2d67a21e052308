// matmul reference — C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias, the spec of matmul.wgsl.
// op(A) is (M, K): A stored (M, K), or (K, M) when transA. op(B) is (K, N): B stored (K, N), or (N, K)
// when transB. Batches are strided by strideA/strideB/strideC elements (0 broadcasts one matrix).
import type { Arr } from './types';

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
  /** Elements between consecutive batch matrices; default: packed (M·K, K·N, M·N). */
  strideA?: number;
  strideB?: number;
  strideC?: number;
  alpha?: number;
  /** 0 overwrites C (its old contents are never read); 1 accumulates. */
  beta?: number;
  hasBias?: boolean;
}

export function matmulStrides(s: MatmulShape): { strideA: number; strideB: number; strideC: number } {
  return {
    strideA: s.strideA ?? s.M * s.K,
    strideB: s.strideB ?? s.K * s.N,
    strideC: s.strideC ?? s.M * s.N,
  };
}

export function matmul(c: Arr, a: Arr, b: Arr, bias: Arr | null, s: MatmulShape): void {
  const { M, N, K } = s;
  const batch = s.batch ?? 1;
  const alpha = s.alpha ?? 1;
  const beta = s.beta ?? 0;
  const { strideA, strideB, strideC } = matmulStrides(s);
  for (let z = 0; z < batch; z++) {
    const oa = z * strideA;
    const ob = z * strideB;
    const oc = z * strideC;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = s.transA ? a[oa + k * M + m] : a[oa + m * K + k];
          const bv = s.transB ? b[ob + n * K + k] : b[ob + k * N + n];
          acc += av * bv;
        }
        const prev = beta === 0 ? 0 : beta * c[oc + m * N + n];
        c[oc + m * N + n] = alpha * acc + prev + (bias && s.hasBias !== false ? bias[n] : 0);
      }
    }
  }
}

/**
 * Gradients of L = Σ dC ⊙ (op(A)·op(B) + bias) for one unbatched product, written as matmuls with
 * transposes — the same calls the models make on the GPU. Overwrites dA, dB, dBias.
 */
export function matmulBackward(
  dA: Arr, dB: Arr, dBias: Arr | null, dC: Arr, a: Arr, b: Arr,
  s: { M: number; N: number; K: number; transA?: boolean; transB?: boolean },
): void {
  const { M, N, K } = s;
  // d op(A) = dC · op(B)ᵀ  (M, K); stored transposed when transA: dA = op(B) · dCᵀ  (K, M).
  if (!s.transA) matmul(dA, dC, b, null, { M, N: K, K: N, transB: !s.transB });
  else matmul(dA, b, dC, null, { M: K, N: M, K: N, transA: !!s.transB, transB: true });
  // d op(B) = op(A)ᵀ · dC  (K, N); stored transposed when transB: dB = dCᵀ · op(A)  (N, K).
  if (!s.transB) matmul(dB, a, dC, null, { M: K, N, K: M, transA: !s.transA });
  else matmul(dB, dC, a, null, { M: N, N: K, K: M, transA: true, transB: !!s.transA });
  if (dBias) {
    dBias.fill(0);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) dBias[n] += dC[m * N + n];
  }
}
