import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import { runLayernormBackward, runLayernormBackwardParams, runLayernormForward } from '../../src/kernels/layernorm';
import {
  type LayernormShape, layernormBackward, layernormBackwardParams, layernormForward,
} from '../../src/ref/layernorm';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// C: tiny, odd, around the 64-thread workgroup (64, 65), GPT-2/ViT width 768, and 1031 (the 256-thread
// variant, not a multiple of it). Rows B·T: 1, 3, 45.
const CS = [2, 7, 45, 64, 65, 768, 1031];
const ROWS: [number, number][] = [[1, 1], [1, 3], [3, 15]];

type Case = LayernormShape & { maxGroupsPerDim?: number };

/** Runs forward, backward (= and +=) and params (+=) on the GPU and checks each against the reference. */
async function check(ctx: GpuContext, s: Case, seed: number, x = uniformF32(s.B * s.T * s.C, seed, -2, 3)) {
  const N = s.B * s.T, C = s.C, what = `B=${s.B} T=${s.T} C=${C} eps=${s.eps}`;
  const w = uniformF32(C, seed + 1, 0.5, 1.5), b = uniformF32(C, seed + 2);
  const dy = uniformF32(N * C, seed + 3), dx0 = uniformF32(N * C, seed + 4);
  const dw0 = uniformF32(C, seed + 5), db0 = uniformF32(C, seed + 6);
  const y = new Float32Array(N * C), mean = new Float32Array(N), rstd = new Float32Array(N);
  layernormForward(y, mean, rstd, x, w, b, s);

  const g = {
    x: ctx.upload('x', x), w: ctx.upload('w', w), b: ctx.upload('b', b), dy: ctx.upload('dy', dy),
    y: ctx.createBuffer('y', N * C * 4), mean: ctx.createBuffer('mean', N * 4), rstd: ctx.createBuffer('rstd', N * 4),
    dx: ctx.upload('dx', dx0), dw: ctx.upload('dw', dw0), db: ctx.upload('db', db0),
  };
  await runLayernormForward(ctx, s, g);
  expectAllClose(await ctx.readF32(g.y, N * C), y, TOL.reduction, `y ${what}`);
  expectAllClose(await ctx.readF32(g.mean, N), mean, TOL.reduction, `mean ${what}`);
  expectAllClose(await ctx.readF32(g.rstd, N), rstd, TOL.reduction, `rstd ${what}`);

  // The GPU backward reads the GPU forward's cache; the reference reads its own.
  for (const accumulateDx of [false, true]) {
    const want = Float32Array.from(dx0);
    layernormBackward(want, dy, x, w, mean, rstd, { ...s, accumulateDx });
    ctx.write(g.dx, dx0);
    await runLayernormBackward(ctx, { ...s, accumulateDx }, g);
    expectAllClose(await ctx.readF32(g.dx, N * C), want, TOL.backward, `dx${accumulateDx ? ' +=' : ''} ${what}`);
  }
  const dw = Float32Array.from(dw0), db = Float32Array.from(db0);
  layernormBackwardParams(dw, db, dy, x, mean, rstd, s);
  await runLayernormBackwardParams(ctx, s, g);
  expectAllClose(await ctx.readF32(g.dw, C), dw, TOL.backward, `dw += ${what}`);
  expectAllClose(await ctx.readF32(g.db, C), db, TOL.backward, `db += ${what}`);
}

describe('layernorm_*.wgsl vs reference', () => {
  let seed = 300;
  for (const C of CS) {
    for (const [B, T] of ROWS) {
      it(`B=${B} T=${T} C=${C}`, async () => {
        await check(await testContext(), { B, T, C, eps: 1e-5 }, (seed += 10));
      });
    }
  }

  it('ViT eps 1e-12, C = 768', async () => {
    await check(await testContext(), { B: 2, T: 5, C: 768, eps: 1e-12 }, 900);
  });

  it('eps comes from the uniform: rows whose variance (~3e-7) is below eps', async () => {
    const s = { B: 1, T: 3, C: 65, eps: 1e-5 };
    // No large mean here: with |mean|/std in the thousands one ulp of the fp32 mean is already a
    // 1e-3 relative error in x − mean, in any fp32 implementation (torch's included).
    const x = uniformF32(3 * 65, 910, -1e-3, 1e-3);
    await check(await testContext(), s, 920, x);
  });

  it('rows folded over a 4-workgroup axis limit (45 rows → 4 × 12 groups)', async () => {
    await check(await testContext(), { B: 3, T: 15, C: 45, eps: 1e-5, maxGroupsPerDim: 4 }, 930);
  });

  it('dw and db are bitwise reproducible (no atomics, fixed summation order)', async () => {
    const ctx = await testContext();
    const s = { B: 3, T: 15, C: 65, eps: 1e-5 }, N = 45 * 65;
    const bufs = {
      dy: ctx.upload('dy', uniformF32(N, 940)), x: ctx.upload('x', uniformF32(N, 941)),
      mean: ctx.upload('mean', uniformF32(45, 942)), rstd: ctx.upload('rstd', uniformF32(45, 943, 0.5, 2)),
      dw: ctx.createBuffer('dw', 65 * 4), db: ctx.createBuffer('db', 65 * 4),
    };
    const results: Float32Array[] = [];
    for (let i = 0; i < 2; i++) {
      ctx.write(bufs.dw, new Float32Array(65));
      ctx.write(bufs.db, new Float32Array(65));
      await runLayernormBackwardParams(ctx, s, bufs);
      results.push(await ctx.readF32(bufs.dw, 65), await ctx.readF32(bufs.db, 65));
    }
    expect(Array.from(results[2])).toEqual(Array.from(results[0]));
    expect(Array.from(results[3])).toEqual(Array.from(results[1]));
  });
});
