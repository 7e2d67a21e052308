import { describe, expect, it } from 'vitest';
import { runRopeBackward, runRopeForward } from '../../src/kernels/rope';
import { type RopeShape, ropeBackward, ropeForward } from '../../src/ref/rope';
import { type RopeConfig, invFreq, ropeTable } from '../../src/ref/rope_freq';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

type Case = RopeShape & { maxGroupsPerDim?: number };

const LLAMA3: RopeConfig = {
  rope_theta: 500000,
  rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
};

/** Rotates x forward and a gradient backward on the GPU; both must match the reference. */
async function check(s: Case, config: RopeConfig, seed: number) {
  const ctx = await testContext();
  const n = s.B * s.T * s.NH * s.HS, what = `B=${s.B} T=${s.T} NH=${s.NH} HS=${s.HS} pos0=${s.pos0}`;
  const { cos, sin } = ropeTable(invFreq(config, s.HS), s.P);
  const x = uniformF32(n, seed, -2, 2), dy = uniformF32(n, seed + 1);
  const bufs = { cos: ctx.upload('cos', cos), sin: ctx.upload('sin', sin), x: ctx.upload('x', x) };
  const y = Float32Array.from(x);
  ropeForward(y, cos, sin, s);
  await runRopeForward(ctx, s, bufs);
  expectAllClose(await ctx.readF32(bufs.x, n), y, TOL.elementwise, `forward ${what}`);

  const dx = Float32Array.from(dy);
  ropeBackward(dx, cos, sin, s);
  ctx.write(bufs.x, dy);
  await runRopeBackward(ctx, s, bufs);
  expectAllClose(await ctx.readF32(bufs.x, n), dx, TOL.elementwise, `backward ${what}`);
}

describe('rope.wgsl vs reference (rotate-half, in place)', () => {
  // HS 2 (one pair), 8, 16, 64, and 24/40 (not powers of two); odd B, T, NH.
  const shapes: [number, number, number][] = [[1, 1, 1], [2, 7, 3], [3, 5, 2]];
  let seed = 2100;
  for (const HS of [2, 8, 16, 24, 40, 64]) {
    for (const [B, T, NH] of shapes) {
      it(`HS=${HS} B=${B} T=${T} NH=${NH}, θ = 1e6`, async () => {
        await check({ B, T, NH, HS, pos0: 0, P: T }, { rope_theta: 1e6 }, (seed += 10));
      });
    }
  }

  it('llama3-scaled table, positions offset for a decode step (pos0 = 11 of a 13-row table)', async () => {
    await check({ B: 1, T: 2, NH: 5, HS: 24, pos0: 11, P: 13 }, LLAMA3, 2300);
  });

  it('linear-scaled table, many positions (T = 45)', async () => {
    await check({ B: 1, T: 45, NH: 2, HS: 16, pos0: 0, P: 45 }, { rope_scaling: { rope_type: 'linear', factor: 2 } }, 2310);
  });

  it('pairs folded over a 4-workgroup axis limit (B·T·NH·HS/2 = 1890 pairs → 8 groups of 256)', async () => {
    await check({ B: 3, T: 7, NH: 3, HS: 60, pos0: 0, P: 7, maxGroupsPerDim: 4 }, { rope_theta: 10000 }, 2320);
  });

  it('refuses a position past the table and an odd head size', async () => {
    const ctx = await testContext();
    const bufs = { cos: ctx.createBuffer('cos', 64), sin: ctx.createBuffer('sin', 64), x: ctx.createBuffer('x', 64) };
    await expect(runRopeForward(ctx, { B: 1, T: 2, NH: 1, HS: 4, pos0: 3, P: 4 }, bufs)).rejects.toThrow(/exceed the 4-row/);
    await expect(runRopeForward(ctx, { B: 1, T: 1, NH: 1, HS: 5, pos0: 0, P: 4 }, bufs)).rejects.toThrow(/HS=5 must be even/);
  });
});
