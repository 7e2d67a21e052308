// dropout_apply.wgsl vs src/ref/dropout.ts on Philox masks (rng_uniform.wgsl), odd lengths and a
// folded grid; the mask is a pure function of (seed, offset): regenerating it gives the same result.
import { describe, expect, it } from 'vitest';
import { runDropoutApply } from '../../src/kernels/dropout';
import { runRngUniform } from '../../src/kernels/rng';
import { dropoutApply, dropoutScale } from '../../src/ref/dropout';
import { rngUniform } from '../../src/ref/rng';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

const CASES = [
  { n: 1, p: 0.5 }, { n: 7, p: 0.1 }, { n: 257, p: 0.25 }, { n: 45 * 65, p: 0.05 },
  { n: 2700, p: 0.3, maxGroupsPerDim: 5 }, { n: 100, p: 0 },
];

describe('dropout_apply.wgsl vs reference', () => {
  let seed = 300;
  for (const c of CASES) {
    it(`n=${c.n} p=${c.p}${c.maxGroupsPerDim ? ' folded' : ''}: out = x ⊙ keep, then out += g ⊙ keep`, async () => {
      const ctx = await testContext();
      const stream = { n: c.n, seedLo: 17, seedHi: 3, offset: seed };
      const u = new Float32Array(c.n);
      rngUniform(u, stream);
      const uBuf = ctx.createBuffer('u', 4 * c.n);
      await runRngUniform(ctx, stream, uBuf);
      expectAllClose(await ctx.readF32(uBuf, c.n), u, TOL.exact, 'Philox uniforms');
      const x = uniformF32(c.n, seed++), g = uniformF32(c.n, seed++);
      const want = new Float32Array(c.n);
      dropoutApply(want, x, u, c);
      const out = ctx.upload('out', uniformF32(c.n, seed++)); // stale contents must be overwritten
      await runDropoutApply(ctx, c, { x: ctx.upload('x', x), u: uBuf, out });
      // One f32 multiply per kept element, the same on both sides.
      expectAllClose(await ctx.readF32(out, c.n), want, TOL.exact, 'forward');
      dropoutApply(want, g, u, { ...c, accumulate: true });
      await runDropoutApply(ctx, { ...c, accumulate: true }, { x: ctx.upload('g', g), u: uBuf, out });
      expectAllClose(await ctx.readF32(out, c.n), want, TOL.elementwise, 'backward (accumulate)');
    });
  }

  it('drops about p of a long stream and scales the rest by 1/(1 − p)', async () => {
    const ctx = await testContext();
    const n = 100_003, p = 0.2;
    const uBuf = ctx.createBuffer('u', 4 * n), out = ctx.createBuffer('out', 4 * n);
    await runRngUniform(ctx, { n, seedLo: 5, seedHi: 0, offset: 9 }, uBuf);
    await runDropoutApply(ctx, { n, p }, { x: ctx.upload('ones', new Float32Array(n).fill(1)), u: uBuf, out });
    const y = await ctx.readF32(out, n);
    const dropped = y.filter((v) => v === 0).length;
    expect(y.every((v) => v === 0 || v === dropoutScale(p))).toBe(true);
    // Binomial(n, p): sd = √(n p (1 − p)) ≈ 126; 5 sd.
    expect(Math.abs(dropped - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
  });

  it('refuses p outside [0, 1)', async () => {
    const ctx = await testContext();
    const b = ctx.createBuffer('b', 16);
    await expect(runDropoutApply(ctx, { n: 4, p: 1 }, { x: b, u: b, out: ctx.createBuffer('o', 16) })).rejects.toThrow(/p=1/);
  });
});
