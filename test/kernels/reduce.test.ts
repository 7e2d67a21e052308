import { describe, it } from 'vitest';
import { runReduceSumCols, runReduceSumRows } from '../../src/kernels/reduce';
import { type ReduceShape, reduceSumCols, reduceSumRows } from '../../src/ref/reduce';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// (rows, cols): single elements, single rows/columns, 45×65 and its transpose, rows around the
// 64-thread workgroup, the GPT-2 width 768, and 1031 columns (the 256-thread row variant).
const SHAPES: [number, number][] = [[1, 1], [1, 7], [7, 1], [45, 65], [65, 45], [3, 768], [2, 1031], [97, 5]];

type Case = ReduceShape & { maxGroupsPerDim?: number };

async function check(s: Case, seed: number) {
  const ctx = await testContext();
  const x = uniformF32(s.rows * s.cols, seed);
  const what = `${s.rows}×${s.cols}${s.accumulate ? ' +=' : ''}${s.maxGroupsPerDim ? ' folded' : ''}`;
  const bx = ctx.upload('x', x);
  const runs = [[runReduceSumRows, reduceSumRows, s.cols], [runReduceSumCols, reduceSumCols, s.rows]] as const;
  for (const [run, ref, len] of runs) {
    const out0 = uniformF32(len, seed + 1); // overwritten with `=`, added to with ACCUMULATE
    const want = Float32Array.from(out0);
    ref(want, x, s);
    const out = ctx.upload('out', out0);
    await run(ctx, s, { x: bx, out });
    expectAllClose(await ctx.readF32(out, len), want, TOL.reduction, `${ref.name} ${what}`);
  }
}

describe('reduce_*.wgsl vs reference', () => {
  let seed = 500;
  for (const [rows, cols] of SHAPES) {
    it(`${rows}×${cols}: = and +=`, async () => {
      await check({ rows, cols }, (seed += 2));
      await check({ rows, cols, accumulate: true }, (seed += 2));
    });
  }
  it('folded dispatch (at most 3 workgroups per axis)', async () => {
    await check({ rows: 45, cols: 650, maxGroupsPerDim: 3 }, 600); // 45 rows → 3 × 15; 11 column groups → 3 × 4
  });
});
