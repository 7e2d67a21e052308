import { describe, it } from 'vitest';
import { GRADNORM_CHUNK, type GradTensor, gradnormPartialCount, runGradNorm } from '../../src/kernels/gradnorm';
import { gradnorm, gradnormPartial } from '../../src/ref/gradnorm';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

/**
 * Tensors packed into one flat buffer with a gap of 3 poison elements (1e3) before each, so a wrong
 * xOffset or an out-of-range read shows up as a norm far too large.
 */
async function check(lengths: number[], maxNorm: number, seed: number, foldAt?: number, scale = 1) {
  const ctx = await testContext();
  const GAP = 3;
  const flat = new Float32Array(lengths.reduce((s, n) => s + n + GAP, GAP)).fill(1e3);
  const xs: Float32Array[] = [];
  const tensors: Omit<GradTensor, 'x'>[] = [];
  let at = GAP;
  lengths.forEach((n, k) => {
    const x = uniformF32(n, seed + k).map((v) => v * scale);
    flat.set(x, at);
    xs.push(x);
    tensors.push({ n, xOffset: at });
    at += n + GAP;
  });
  const count = gradnormPartialCount(lengths);
  const x = ctx.upload('grads', flat);
  const partials = ctx.createBuffer('partials', count * 4);
  const out = ctx.createBuffer('out', 8);
  await runGradNorm(ctx, tensors.map((t) => ({ ...t, x })), maxNorm, { partials, out }, foldAt);

  const wantPartials = new Float32Array(count);
  let partialOffset = 0;
  for (const t of tensors) {
    gradnormPartial(wantPartials, flat, { n: t.n, xOffset: t.xOffset ?? 0, partialOffset, chunk: GRADNORM_CHUNK });
    partialOffset += Math.ceil(t.n / GRADNORM_CHUNK);
  }
  const want = new Float32Array(2);
  gradnorm(want, xs, maxNorm);
  const what = `gradnorm [${lengths}] maxNorm=${maxNorm}${foldAt ? ` folded at ${foldAt}` : ''}`;
  expectAllClose(await ctx.readF32(partials, count), wantPartials, TOL.reduction, `${what}: partials`);
  expectAllClose(await ctx.readF32(out, 2), want, TOL.reduction, `${what}: [norm, clip]`);
  for (const b of [x, partials, out]) b.destroy();
}

describe('gradnorm_partial.wgsl + gradnorm_finalize.wgsl vs reference', () => {
  let seed = 300;
  for (const n of [1, 7, 65537, 200000]) {
    // maxNorm 1 clips (coefficient < 1) whenever the norm exceeds 1; maxNorm 1e6 never clips (exactly 1).
    it(`n=${n}`, async () => {
      await check([n], 1, seed++);
      await check([n], 1e6, seed++);
    });
  }
  it('several tensors accumulate into one partials buffer', async () => check([7, 65537, 1, 2048], 1, 400));
  it('folded grid (fold limit 7) for 200000 elements', async () => check([200000], 1, 401, 7));
  // A zero gradient (a frozen step, a fully padded batch) must clip by 1, not by maxNorm/0 or less.
  it('all-zero gradients: norm 0 and clip scale 1', async () => check([7, 300], 1, 402, undefined, 0));
});
