import { describe, expect, it } from 'vitest';
import { runSwigluBackward, runSwigluForward } from '../../src/kernels/swiglu';
import { type SwigluShape, swigluBackward, swigluForward } from '../../src/ref/swiglu';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

type Case = SwigluShape & { maxGroupsPerDim?: number };

/** Forward, backward (=) and backward (+=) on the GPU, each against the reference. */
async function check(s: Case, g: Float32Array, seed: number) {
  const ctx = await testContext();
  const n = s.n, u = uniformF32(n, seed, -2, 2), dh = uniformF32(n, seed + 1);
  const dg0 = uniformF32(n, seed + 2), du0 = uniformF32(n, seed + 3);
  const bufs = {
    g: ctx.upload('g', g), u: ctx.upload('u', u), dh: ctx.upload('dh', dh), h: ctx.createBuffer('h', n * 4),
    dg: ctx.upload('dg', dg0), du: ctx.upload('du', du0),
  };
  const h = new Float32Array(n);
  swigluForward(h, g, u, s);
  await runSwigluForward(ctx, s, bufs);
  expectAllClose(await ctx.readF32(bufs.h, n), h, TOL.transcendental, `h n=${n}`);
  for (const accumulate of [false, true]) {
    const dg = Float32Array.from(dg0), du = Float32Array.from(du0);
    swigluBackward(dg, du, dh, g, u, { ...s, accumulate });
    ctx.write(bufs.dg, dg0);
    ctx.write(bufs.du, du0);
    await runSwigluBackward(ctx, { ...s, accumulate }, bufs);
    const tag = `n=${n}${accumulate ? ' +=' : ''}`;
    expectAllClose(await ctx.readF32(bufs.dg, n), dg, TOL.transcendental, `dg ${tag}`);
    expectAllClose(await ctx.readF32(bufs.du, n), du, TOL.transcendental, `du ${tag}`);
  }
}

describe('swiglu_*.wgsl vs reference', () => {
  let seed = 2500;
  for (const n of [1, 7, 255, 257, 1031, 45 * 65]) {
    it(`n=${n}, g in [−8, 8]`, async () => {
      await check({ n }, uniformF32(n, (seed += 10), -8, 8), seed + 5);
    });
  }

  it('saturated gates stay finite: g = ±20, ±90, ±200, 0', async () => {
    const g = Float32Array.from([20, -20, 90, -90, 200, -200, 0]);
    await check({ n: g.length }, g, 2600);
    const ctx = await testContext();
    const buf = { g: ctx.upload('g', g), u: ctx.upload('u', new Float32Array(7).fill(1)), h: ctx.createBuffer('h', 28) };
    await runSwigluForward(ctx, { n: 7 }, buf);
    expect((await ctx.readF32(buf.h, 7)).every(Number.isFinite)).toBe(true);
  });

  it('elements folded over a 4-workgroup axis limit (2925 elements → 12 groups of 256)', async () => {
    await check({ n: 45 * 65, maxGroupsPerDim: 4 }, uniformF32(45 * 65, 2610, -8, 8), 2620);
  });
});
