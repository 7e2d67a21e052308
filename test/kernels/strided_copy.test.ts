// strided_copy.wgsl vs src/ref/strided_copy.ts on seeded inputs: every layout the ViT engine uses
// (q/k/v → packed qkv and back, patches below the CLS row, CLS gather, broadcast add) plus odd shapes
// and a folded dispatch. A copy is exact and one add per element rounds like the CPU: TOL.exact for
// `=`, TOL.elementwise for `+=`.
import { describe, it } from 'vitest';
import { runStridedCopy } from '../../src/kernels/strided_copy';
import { type StridedCopyShape, stridedCopy, stridedCopyExtent } from '../../src/ref/strided_copy';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

type Case = { name: string; s: StridedCopyShape; maxGroupsPerDim?: number };

const C = 48, T = 5, B = 2, P = 4, N = B * T;
const CASES: Case[] = [
  { name: '1 element', s: { batch: 1, rows: 1, cols: 1, srcRowStride: 1, dstRowStride: 1 } },
  { name: 'contiguous 7', s: { batch: 1, rows: 1, cols: 7, srcRowStride: 7, dstRowStride: 7 } },
  { name: 'k → packed qkv (offset C, stride 3C)', s: { batch: 1, rows: N, cols: C, srcRowStride: C, dstOffset: C, dstRowStride: 3 * C } },
  { name: 'packed dqkv → dv (offset 2C)', s: { batch: 1, rows: N, cols: C, srcOffset: 2 * C, srcRowStride: 3 * C, dstRowStride: C } },
  { name: 'patches below CLS', s: { batch: B, rows: P, cols: C, srcRowStride: C, srcBatchStride: P * C, dstOffset: C, dstRowStride: C, dstBatchStride: T * C } },
  { name: 'CLS gather', s: { batch: B, rows: 1, cols: C, srcRowStride: C, srcBatchStride: T * C, dstRowStride: C, dstBatchStride: C } },
  { name: 'broadcast += (batch stride 0)', s: { batch: 3, rows: T, cols: C, srcRowStride: C, dstRowStride: C, dstBatchStride: T * C, accumulate: true } },
  { name: '45×65 into 45×70 at offset 3, accumulate', s: { batch: 1, rows: 45, cols: 65, srcRowStride: 65, dstOffset: 3, dstRowStride: 70, accumulate: true } },
  { name: '7×3×65 folded', s: { batch: 7, rows: 3, cols: 65, srcRowStride: 65, srcBatchStride: 200, dstRowStride: 66, dstBatchStride: 199 }, maxGroupsPerDim: 2 },
];

describe('strided_copy.wgsl vs reference', () => {
  let seed = 700;
  for (const c of CASES) {
    it(c.name, async () => {
      const ctx = await testContext();
      const ext = stridedCopyExtent(c.s);
      const src = uniformF32(ext.src, seed++);
      const dst0 = uniformF32(ext.dst + 5, seed++); // untouched elements must survive
      const want = dst0.slice();
      stridedCopy(want, src, c.s);
      const dst = ctx.upload('dst', dst0);
      await runStridedCopy(ctx, { ...c.s, maxGroupsPerDim: c.maxGroupsPerDim }, { src: ctx.upload('src', src), dst });
      const tol = c.s.accumulate ? TOL.elementwise : TOL.exact;
      expectAllClose(await ctx.readF32(dst, want.length), want, tol, c.name);
    });
  }
});
