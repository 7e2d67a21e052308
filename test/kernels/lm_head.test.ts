// The untied LM head of Llama/Qwen checkpoints (tie_word_embeddings false): lm_head.weight is an
// nn.Linear weight [V, C], logits = h · Wᵀ. No new kernel is needed: the existing matmul with
// transB = true computes exactly this (GPT-2's tied head already uses it on wte [V, C]). This file
// proves it, forward and backward, on odd V against loops written directly from nn.Linear's definition.
import { describe, expect, it } from 'vitest';
import { prepareLmHeadForward } from '../../src/kernels/lm_head';
import { matmulVariant, runMatmul } from '../../src/kernels/matmul';
import { wholeVocab } from '../../src/kernels/vocab_split';
import { packF32 } from '../../src/ref/packed';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

/** logits[m, v] = Σ_c h[m, c] · W[v, c]  (torch.nn.functional.linear, no bias). */
function linear(h: Float32Array, W: Float32Array, M: number, V: number, C: number): Float32Array {
  const out = new Float32Array(M * V);
  for (let m = 0; m < M; m++) {
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += h[m * C + c] * W[v * C + c];
      out[m * V + v] = acc;
    }
  }
  return out;
}

describe('untied lm_head [V, C] through the existing matmul (transB)', () => {
  // C = 7 takes the scalar kernel, C = 24 the vec4 one (K multiple of 4); V = 37 and 1031 are odd.
  const cases = [
    { M: 1, V: 37, C: 7 },
    { M: 7, V: 37, C: 24 },
    { M: 5, V: 1031, C: 24 },
  ];
  for (const { M, V, C } of cases) {
    it(`M=${M} V=${V} C=${C} (${matmulVariant({ M, N: V, K: C, transB: true }).name})`, async () => {
      const ctx = await testContext();
      const h = uniformF32(M * C, M + V, -2, 2), W = uniformF32(V * C, C + 1), dlogits = uniformF32(M * V, V + 2);
      const dW0 = uniformF32(V * C, V + 3);
      const bufs = { h: ctx.upload('h', h), W: ctx.upload('W', W), dlogits: ctx.upload('dlogits', dlogits),
        logits: ctx.createBuffer('logits', M * V * 4), dh: ctx.createBuffer('dh', M * C * 4), dW: ctx.upload('dW', dW0) };

      await runMatmul(ctx, { M, N: V, K: C, transB: true }, { a: bufs.h, b: bufs.W, c: bufs.logits });
      expectAllClose(await ctx.readF32(bufs.logits, M * V), linear(h, W, M, V, C), TOL.matmul, 'logits = h·Wᵀ');

      // dh[m, c] = Σ_v dlogits[m, v]·W[v, c];  dW[v, c] += Σ_m dlogits[m, v]·h[m, c]
      const dh = new Float32Array(M * C), dW = Float32Array.from(dW0);
      for (let m = 0; m < M; m++) {
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let v = 0; v < V; v++) acc += dlogits[m * V + v] * W[v * C + c];
          dh[m * C + c] = acc;
        }
      }
      for (let v = 0; v < V; v++) {
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let m = 0; m < M; m++) acc += dlogits[m * V + v] * h[m * C + c];
          dW[v * C + c] += acc;
        }
      }
      await runMatmul(ctx, { M, N: C, K: V }, { a: bufs.dlogits, b: bufs.W, c: bufs.dh });
      expectAllClose(await ctx.readF32(bufs.dh, M * C), dh, TOL.matmul, 'dh = dlogits·W');
      await runMatmul(ctx, { M: V, N: C, K: M, transA: true, beta: 1 }, { a: bufs.dlogits, b: bufs.h, c: bufs.dW });
      expectAllClose(await ctx.readF32(bufs.dW, V * C), dW, TOL.matmul, 'dW += dlogitsᵀ·h');
    });
  }
});

describe('one row of the head is the same bits whatever M', () => {
  // Generation's prefill heads only the last prompt row (M = 1, src/model/prefill.ts) where the forward heads
  // all T0 rows: the row's logits must not depend on M, though M = 40, C = 128 is a full-size product and
  // M = 1 is not (different kernel variants on SwiftShader).
  const M = 40, V = 200, C = 128;
  for (const format of ['f32', 'bf16'] as const) {
    it(`${format}: M=${M} (${matmulVariant({ M, N: V, K: C, transB: true }).name}) vs M=1 (${matmulVariant({ M: 1, N: V, K: C, transB: true }).name}), C=${C}`, async () => {
      const ctx = await testContext();
      const h = uniformF32(M * C, 5, -2, 2), W = uniformF32(V * C, 6);
      const w = ctx.upload('W', format === 'f32' ? W : packF32(W, format));
      const split = wholeVocab(V);
      const head = async (rows: Float32Array, BT: number) => {
        const logits = ctx.createBuffer('logits', BT * V * 4);
        const launches = await prepareLmHeadForward(ctx, { BT, C }, split, { h: ctx.upload('h', rows), W: [w], logits: [logits] }, format);
        ctx.submit(launches, 'lm_head');
        return new Uint32Array((await ctx.readF32(logits, BT * V)).buffer);
      };
      const all = await head(h, M);
      expect(await head(h.slice((M - 1) * C), 1)).toEqual(all.slice((M - 1) * V));
    });
  }
});
