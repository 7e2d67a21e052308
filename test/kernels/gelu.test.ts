import { describe, it } from 'vitest';
import { runGeluBackward, runGeluForward } from '../../src/kernels/gelu';
import { type GeluApproximate, geluBackward, geluForward } from '../../src/ref/gelu';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';

// Inputs span ±10 (both saturated tails), then a fixed tail of edge values: 0, tiny, the region
// where 1 + tanh u would cancel (−3 … −6), and ±20/±100/±1e20 where an unclamped tanh or x³ overflows.
const EDGES = [0, 1e-7, -1e-7, 0.5, -0.5, 1, -1, -3, -4.5, -6, 6, -10, 10, -20, 20, -100, 100, -1e20, 1e20];

function inputs(n: number, seed: number): Float32Array {
  const x = uniformF32(n, seed, -10, 10);
  for (let i = 0; i < Math.min(n, EDGES.length); i++) x[n - 1 - i] = EDGES[i];
  return x;
}

// Measured on SwiftShader: max |diff| 4.8e-7 (half an ulp at |x| = 10), and everything passes at
// {atol: 2e-7, rtol: 5e-7}. TOL.transcendental (rtol 1e-4) would let a wrong fifth digit of 0.044715
// through (|∂gelu/∂c| ≈ 0.57 at x = 2), so this family uses a tighter row with ~5× headroom.
const GELU_TOL = { atol: 1e-6, rtol: 2e-6 };

const CASES: { n: number; maxGroupsPerDim?: number }[] = [
  { n: 1 }, { n: 7 }, { n: 45 * 65 }, { n: 2700, maxGroupsPerDim: 5 },
];

describe('gelu_*.wgsl vs reference', () => {
  let seed = 200;
  for (const approximate of ['tanh', 'none'] as GeluApproximate[]) {
    for (const c of CASES) {
      const name = `${approximate} n=${c.n}${c.maxGroupsPerDim ? ' folded' : ''}`;
      it(`forward ${name}`, async () => {
        const ctx = await testContext();
        const s = { ...c, approximate };
        const x = inputs(c.n, seed++);
        const want = new Float32Array(c.n);
        geluForward(want, x, s);
        const out = ctx.upload('out', uniformF32(c.n, seed++));
        await runGeluForward(ctx, s, { x: ctx.upload('x', x), out });
        expectAllClose(await ctx.readF32(out, c.n), want, GELU_TOL, `gelu forward ${name}`);
      });

      it(`backward ${name}: dx = dy·gelu'(x) and dx += …`, async () => {
        const ctx = await testContext();
        const x = inputs(c.n, seed++), dy = uniformF32(c.n, seed++), dx0 = uniformF32(c.n, seed++);
        const bufs = { x: ctx.upload('x', x), dy: ctx.upload('dy', dy), dx: ctx.upload('dx', dx0) };
        for (const accumulate of [false, true]) {
          const s = { ...c, approximate, accumulate };
          const want = Float32Array.from(dx0);
          geluBackward(want, x, dy, s);
          ctx.write(bufs.dx, dx0);
          await runGeluBackward(ctx, s, bufs);
          const got = await ctx.readF32(bufs.dx, c.n);
          expectAllClose(got, want, GELU_TOL, `gelu backward ${name}${accumulate ? ' +=' : ''}`);
        }
      });
    }
  }
});
