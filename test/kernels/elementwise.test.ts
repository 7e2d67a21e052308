import { describe, it } from 'vitest';
import { runElementwiseAdd, runElementwiseAxpy, runElementwiseScale } from '../../src/kernels/elementwise';
import { elementwiseAdd, elementwiseAxpy, elementwiseScale } from '../../src/ref/elementwise';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// Odd lengths: 1, 7, 45·65, one past a workgroup (257), and 2700 folded with at most 5 workgroups per
// axis (11 groups → 3 × 4, so the shader must mask a whole overshooting workgroup).
const CASES: { n: number; maxGroupsPerDim?: number }[] = [
  { n: 1 }, { n: 7 }, { n: 257 }, { n: 45 * 65 }, { n: 2700, maxGroupsPerDim: 5 },
];

const label = (c: { n: number; maxGroupsPerDim?: number }) => `n=${c.n}${c.maxGroupsPerDim ? ' folded' : ''}`;

describe('elementwise_*.wgsl vs reference', () => {
  let seed = 100;
  for (const c of CASES) {
    it(`add ${label(c)}: out = a + b and out += b in place`, async () => {
      const ctx = await testContext();
      const a = uniformF32(c.n, seed++), b = uniformF32(c.n, seed++);
      const want = new Float32Array(c.n);
      elementwiseAdd(want, a, b, c);
      const bufA = ctx.upload('a', a), bufB = ctx.upload('b', b);
      const out = ctx.upload('out', uniformF32(c.n, seed++)); // stale contents must be overwritten
      await runElementwiseAdd(ctx, c, { a: bufA, b: bufB, out });
      expectAllClose(await ctx.readF32(out, c.n), want, TOL.elementwise, `add ${label(c)}`);
      await runElementwiseAdd(ctx, c, { b: bufB, out: bufA });
      expectAllClose(await ctx.readF32(bufA, c.n), want, TOL.elementwise, `add in place ${label(c)}`);
    });

    it(`scale ${label(c)}: x ← alpha·x`, async () => {
      const ctx = await testContext();
      const x = uniformF32(c.n, seed++);
      const s = { ...c, alpha: -1.75 };
      const buf = ctx.upload('x', x);
      await runElementwiseScale(ctx, s, { x: buf });
      elementwiseScale(x, s);
      expectAllClose(await ctx.readF32(buf, c.n), x, TOL.elementwise, `scale ${label(c)}`);
    });

    it(`axpy ${label(c)}: y ← y + alpha·x`, async () => {
      const ctx = await testContext();
      const x = uniformF32(c.n, seed++), y = uniformF32(c.n, seed++);
      const s = { ...c, alpha: 0.3 };
      const bufY = ctx.upload('y', y);
      await runElementwiseAxpy(ctx, s, { x: ctx.upload('x', x), y: bufY });
      elementwiseAxpy(y, x, s);
      expectAllClose(await ctx.readF32(bufY, c.n), y, TOL.elementwise, `axpy ${label(c)}`);
    });
  }

  it('scale past 65535 workgroups folds the dispatch for real (n = 65535·256 + 77)', async () => {
    const ctx = await testContext();
    const n = 65535 * 256 + 77;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (i % 1021) - 510;
    const buf = ctx.upload('x-large', x);
    await runElementwiseScale(ctx, { n, alpha: 0.5 }, { x: buf });
    const got = await ctx.readF32(buf, n);
    buf.destroy();
    elementwiseScale(x, { n, alpha: 0.5 });
    expectAllClose(got, x, TOL.elementwise, 'scale, folded dispatch');
  });
});
