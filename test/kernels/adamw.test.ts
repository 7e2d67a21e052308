import { describe, expect, it } from 'vitest';
import { type AdamWGroup, type AdamWHyper, runAdamW } from '../../src/kernels/adamw';
import { adamwGroups, adamwScalars } from '../../src/ref/adamw';
import { compareAllClose, expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

const BASE: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, t: 1 };
const GAP = 3; // untouched elements between and after the groups: offsets must be honoured

/** Seeded gradients spanning four decades, so eps and tiny second moments matter. */
function grads(n: number, seed: number): Float32Array {
  const g = uniformF32(n, seed);
  const mag = uniformF32(n, seed + 1, -4, 0);
  return g.map((x, i) => x * 10 ** mag[i]);
}

async function check(L: number, seed: number, foldAt?: number): Promise<{ gpuV: Float32Array; refV: Float32Array }> {
  const ctx = await testContext();
  const groups: AdamWGroup[] = [
    { offset: 0, length: L, lr: 1e-3, weightDecay: 0.01 },
    { offset: L + GAP, length: 5, lr: 3e-2, weightDecay: 0.1 },
  ];
  const total = L + GAP + 5 + GAP;
  const p = uniformF32(total, seed), m = new Float32Array(total), v = new Float32Array(total);
  const bufs = { param: ctx.upload('param', p), m: ctx.upload('m', m), v: ctx.upload('v', v), grad: ctx.createBuffer('grad', total * 4) };
  for (let t = 1; t <= 5; t++) {
    const g = grads(total, seed + 10 * t);
    const h = { ...BASE, t, gradScale: t === 3 ? 0.7 : 1 };
    ctx.write(bufs.grad, g);
    await runAdamW(ctx, groups, h, bufs, foldAt);
    adamwGroups(p, m, v, g, groups, h);
  }
  const what = `adamw L=${L}${foldAt ? ` folded at ${foldAt}` : ''} after 5 steps`;
  expectAllClose(await ctx.readF32(bufs.param, total), p, TOL.optimizer, `${what}: param`);
  expectAllClose(await ctx.readF32(bufs.m, total), m, TOL.optimizer, `${what}: m`);
  const gpuV = await ctx.readF32(bufs.v, total);
  expectAllClose(gpuV, v, TOL.secondMoment, `${what}: v`);
  for (const b of Object.values(bufs)) b.destroy();
  return { gpuV, refV: v };
}

describe('adamw.wgsl vs reference (two groups, t = 1..5)', () => {
  let seed = 100;
  for (const L of [1, 7, 4097, 70000]) it(`length ${L}`, async () => { await check(L, seed++); });
  // 4097 and 70000 elements need 17 and 274 workgroups; a fold limit of 7 forces a 2-D grid.
  for (const L of [4097, 70000]) it(`length ${L}, folded grid`, async () => { await check(L, seed++, 7); });

  it('the v tolerance sees a second moment off by 0.1% (the old absolute tolerance did not)', async () => {
    const { gpuV, refV } = await check(7, 90);
    const wrong = refV.map((x) => x * 1.001); // e.g. (1 − β2) rounded to 0.001001
    expect(compareAllClose(gpuV, wrong, TOL.secondMoment, 'v vs v·1.001').ok).toBe(false);
    // Why the row exists: with `optimizer`'s atol 1e-6 above every v, the same bug passed.
    expect(compareAllClose(gpuV, wrong, TOL.optimizer, 'v vs v·1.001').ok).toBe(true);
  });

  it('zero gradient: only the decoupled decay acts, p·f32(1 − lr·wd) exactly', async () => {
    const ctx = await testContext();
    const n = 33, lr = 0.1, weightDecay = 0.3;
    const p = uniformF32(n, 7);
    const bufs = { param: ctx.upload('param', p), m: ctx.createBuffer('m', n * 4), v: ctx.createBuffer('v', n * 4), grad: ctx.createBuffer('grad', n * 4) };
    await runAdamW(ctx, [{ offset: 0, length: n, lr, weightDecay }], BASE, bufs);
    const { decay } = adamwScalars({ ...BASE, n, offset: 0, lr, weightDecay });
    const want = p.map((x) => Math.fround(x * Math.fround(decay)));
    expectAllClose(await ctx.readF32(bufs.param, n), want, TOL.exact, 'decay-only step');
    for (const b of Object.values(bufs)) b.destroy();
  });
});
