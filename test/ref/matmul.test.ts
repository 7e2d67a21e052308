import { describe, it } from 'vitest';
import { matmul, matmulBackward } from '../../src/ref/matmul';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

describe('matmul reference backward vs finite differences (Float64)', () => {
  const M = 3, N = 5, K = 4;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`trans ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`, () => {
        const a = uniformF64(M * K, 1);
        const b = uniformF64(K * N, 2);
        const bias = uniformF64(N, 3);
        const dC = uniformF64(M * N, 4);
        const s = { M, N, K, transA, transB, hasBias: true };
        const dA = new Float64Array(M * K), dB = new Float64Array(K * N), dBias = new Float64Array(N);
        matmulBackward(dA, dB, dBias, dC, a, b, s);
        const loss = (aa: Float64Array, bb: Float64Array, bi: Float64Array) => {
          const c = new Float64Array(M * N);
          matmul(c, aa, bb, bi, s);
          return dot(c, dC);
        };
        expectGradMatches(dA, (x) => loss(x, b, bias), a, 'dA');
        expectGradMatches(dB, (x) => loss(a, x, bias), b, 'dB');
        expectGradMatches(dBias, (x) => loss(a, b, x), bias, 'dBias');
      });
    }
  }
});
