import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import { runRmsnormBackward, runRmsnormBackwardParams, runRmsnormForward } from '../../src/kernels/rmsnorm';
import { type RmsnormShape, rmsnormBackward, rmsnormBackwardParams, rmsnormForward } from '../../src/ref/rmsnorm';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// C: 1, odd 7, per-head widths HS 8/16/24/64 (the 32-thread variant up to 32), 65 (one past the
// 64-thread workgroup), 896 (Qwen2.5-0.5B hidden size) and 1031 (the 256-thread variant, not a
// multiple of it). Rows: 1, 3, 45.
const CS = [1, 7, 8, 16, 24, 64, 65, 896, 1031];
const ROWS = [1, 3, 45];

type Case = RmsnormShape & { maxGroupsPerDim?: number };

/** Runs forward, backward (= and +=) and params (+=) on the GPU and checks each against the reference. */
async function check(ctx: GpuContext, s: Case, seed: number, x = uniformF32(s.rows * s.C, seed, -2, 3)) {
  const N = s.rows, C = s.C, what = `rows=${N} C=${C} eps=${s.eps}`;
  const w = uniformF32(C, seed + 1, 0.5, 1.5);
  const dy = uniformF32(N * C, seed + 3), dx0 = uniformF32(N * C, seed + 4), dw0 = uniformF32(C, seed + 5);
  const y = new Float32Array(N * C), rstd = new Float32Array(N);
  rmsnormForward(y, rstd, x, w, s);

  const g = {
    x: ctx.upload('x', x), w: ctx.upload('w', w), dy: ctx.upload('dy', dy),
    y: ctx.createBuffer('y', N * C * 4), rstd: ctx.createBuffer('rstd', N * 4),
    dx: ctx.upload('dx', dx0), dw: ctx.upload('dw', dw0),
  };
  await runRmsnormForward(ctx, s, g);
  expectAllClose(await ctx.readF32(g.y, N * C), y, TOL.reduction, `y ${what}`);
  expectAllClose(await ctx.readF32(g.rstd, N), rstd, TOL.reduction, `rstd ${what}`);

  // The GPU backward reads the GPU forward's cache; the reference reads its own.
  for (const accumulateDx of [false, true]) {
    const want = Float32Array.from(dx0);
    rmsnormBackward(want, dy, x, w, rstd, { ...s, accumulateDx });
    ctx.write(g.dx, dx0);
    await runRmsnormBackward(ctx, { ...s, accumulateDx }, g);
    expectAllClose(await ctx.readF32(g.dx, N * C), want, TOL.backward, `dx${accumulateDx ? ' +=' : ''} ${what}`);
  }
  const dw = Float32Array.from(dw0);
  rmsnormBackwardParams(dw, dy, x, rstd, s);
  await runRmsnormBackwardParams(ctx, s, g);
  expectAllClose(await ctx.readF32(g.dw, C), dw, TOL.backward, `dw += ${what}`);
}

describe('rmsnorm_*.wgsl vs reference', () => {
  let seed = 1300;
  for (const C of CS) {
    for (const rows of ROWS) {
      it(`rows=${rows} C=${C}`, async () => {
        await check(await testContext(), { rows, C, eps: 1e-6 }, (seed += 10));
      });
    }
  }

  it('Qwen3 per-head q_norm: B=2, T=5, NH=3, HS=40 as 30 rows of 40, one weight shared by every head', async () => {
    await check(await testContext(), { rows: 2 * 5 * 3, C: 40, eps: 1e-6 }, 1900);
  });

  it('eps comes from the uniform: rows whose mean square (~3e-7) is below eps = 1e-5', async () => {
    const s = { rows: 3, C: 65, eps: 1e-5 };
    await check(await testContext(), s, 1920, uniformF32(3 * 65, 1910, -1e-3, 1e-3));
  });

  it('rows and channels folded over a 4-workgroup axis limit (45 rows → 4 × 12 groups)', async () => {
    await check(await testContext(), { rows: 45, C: 300, eps: 1e-5, maxGroupsPerDim: 4 }, 1930);
  });

  it('dw is bitwise reproducible (no atomics, fixed summation order)', async () => {
    const ctx = await testContext();
    const s = { rows: 45, C: 65, eps: 1e-6 }, N = 45 * 65;
    const bufs = {
      dy: ctx.upload('dy', uniformF32(N, 1940)), x: ctx.upload('x', uniformF32(N, 1941)),
      rstd: ctx.upload('rstd', uniformF32(45, 1943, 0.5, 2)), dw: ctx.createBuffer('dw', 65 * 4),
    };
    const results: Float32Array[] = [];
    for (let i = 0; i < 2; i++) {
      ctx.write(bufs.dw, new Float32Array(65));
      await runRmsnormBackwardParams(ctx, s, bufs);
      results.push(await ctx.readF32(bufs.dw, 65));
    }
    expect(Array.from(results[1])).toEqual(Array.from(results[0]));
  });
});
