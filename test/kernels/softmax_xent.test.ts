import { describe, expect, it } from 'vitest';
import { runSoftmaxXentBackward, runSoftmaxXentForward } from '../../src/kernels/softmax_xent';
import {
  IGNORE_INDEX, type SoftmaxXentShape, meanLossScale, softmaxXentBackward, softmaxXentForward, softmaxXentMean,
} from '../../src/ref/softmax_xent';
import { expectAllClose, expectNonFinite } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { mulberry32, uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

/** Seeded targets in [0, V), about a quarter replaced by `ignore` (padding). */
function makeTargets(BT: number, V: number, seed: number, ignore: number): Int32Array {
  const r = mulberry32(seed);
  return Int32Array.from({ length: BT }, () => (r() < 0.25 ? ignore : Math.floor(r() * V)));
}

async function check(s: SoftmaxXentShape, targets: Int32Array, seed: number, dominant = false) {
  const ctx = await testContext();
  const { BT, V } = s;
  const ignore = s.ignoreIndex ?? IGNORE_INDEX;
  const logits = uniformF32(BT * V, seed, -6, 6);
  // One logit of +200 per row at a different column each row: the log-sum-exp overflows unless the
  // reduction's maximum is that logit, whichever thread holds it.
  if (dominant) for (let r = 0; r < BT; r++) logits[r * V + ((r * 37) % V)] = 200;
  const losses = new Float32Array(BT), probs = new Float32Array(BT * V), loss = new Float32Array(2);
  softmaxXentForward(losses, probs, logits, targets, s);
  softmaxXentMean(loss, losses, targets, s);
  const scale = meanLossScale(targets, ignore, 1.3);
  const dlogits = new Float32Array(BT * V);
  softmaxXentBackward(dlogits, probs, targets, s, scale);
  const bufs = {
    logits: ctx.upload('logits', logits), targets: ctx.upload('targets', targets),
    probs: ctx.createBuffer('probs', BT * V * 4), losses: ctx.createBuffer('losses', BT * 4),
    loss: ctx.createBuffer('loss', 8), dlogits: ctx.createBuffer('dlogits', BT * V * 4),
  };
  await runSoftmaxXentForward(ctx, s, bufs);
  await runSoftmaxXentBackward(ctx, { ...s, scale }, bufs); // consumes the GPU's own probs
  const what = `softmax_xent BT=${BT} V=${V}`;
  expectAllClose(await ctx.readF32(bufs.probs, BT * V), probs, TOL.reduction, `${what} probs`);
  expectAllClose(await ctx.readF32(bufs.losses, BT), losses, TOL.reduction, `${what} losses`);
  expectAllClose(await ctx.readF32(bufs.loss, 2), loss, TOL.reduction, `${what} mean loss, count`);
  expectAllClose(await ctx.readF32(bufs.dlogits, BT * V), dlogits, TOL.reduction, `${what} dlogits`);
  for (const b of Object.values(bufs)) b.destroy();
}

describe('softmax_xent_{forward,mean,backward}.wgsl vs reference', () => {
  let seed = 200;
  // V = 101, 257, 1000: not multiples of any workgroup width; 1000 > 256 threads per row.
  for (const V of [101, 257, 1000]) {
    for (const BT of [1, 7, 45]) {
      it(`BT=${BT} V=${V}, some ignored targets`, async () => {
        const targets = makeTargets(BT, V, seed, IGNORE_INDEX);
        if (BT > 1) targets[BT - 1] = IGNORE_INDEX; // at least one padded row
        await check({ BT, V }, targets, seed++);
      });
    }
  }
  it('one dominant logit per row, at varied columns', async () => {
    await check({ BT: 45, V: 257 }, makeTargets(45, 257, 31, IGNORE_INDEX), 32, true);
  });
  it('V = 7 (narrow workgroup) with a custom ignoreIndex', async () => {
    await check({ BT: 13, V: 7, ignoreIndex: -1 }, makeTargets(13, 7, 5, -1), 6);
  });
  it('every row ignored: mean loss 0, count 0, dlogits 0', async () => {
    await check({ BT: 3, V: 101 }, Int32Array.from([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]), 8);
  });
  it('the mean sums more rows than its workgroup (BT = 600)', async () => {
    await check({ BT: 600, V: 3 }, makeTargets(600, 3, 11, IGNORE_INDEX), 12);
  });
  it('targets outside [0, V) give NaN losses and gradients', async () => {
    // Said explicitly: expectAllClose never lets NaN equal NaN. Rows 0 and 1 are out of range, row 2 valid.
    const ctx = await testContext();
    const s = { BT: 3, V: 101 }, targets = Int32Array.from([101, -5, 4]);
    const logits = uniformF32(3 * 101, 13, -6, 6);
    const losses = new Float32Array(3), probs = new Float32Array(3 * 101), dlogits = new Float32Array(3 * 101);
    softmaxXentForward(losses, probs, logits, targets, s);
    softmaxXentBackward(dlogits, probs, targets, s, 0.5);
    const bufs = {
      logits: ctx.upload('logits', logits), targets: ctx.upload('targets', targets),
      probs: ctx.createBuffer('probs', 3 * 101 * 4), losses: ctx.createBuffer('losses', 3 * 4),
      loss: ctx.createBuffer('loss', 8), dlogits: ctx.createBuffer('dlogits', 3 * 101 * 4),
    };
    await runSoftmaxXentForward(ctx, s, bufs);
    await runSoftmaxXentBackward(ctx, { ...s, scale: 0.5 }, bufs);
    expectAllClose(await ctx.readF32(bufs.probs, 3 * 101), probs, TOL.reduction, 'probs (independent of the target)');
    const gotLosses = await ctx.readF32(bufs.losses, 3);
    expectNonFinite(gotLosses, ['NaN', 'NaN', null], 'losses');
    expectAllClose(gotLosses.subarray(2), losses.subarray(2), TOL.reduction, 'loss of the valid row');
    expect(Number.isNaN((await ctx.readF32(bufs.loss, 2))[0]), 'the mean over rows with a NaN loss').toBe(true);
    const gotD = await ctx.readF32(bufs.dlogits, 3 * 101);
    expectNonFinite(gotD, Array.from({ length: 3 * 101 }, (_, i) => (i < 2 * 101 ? 'NaN' : null)), 'dlogits');
    expectAllClose(gotD.subarray(2 * 101), dlogits.subarray(2 * 101), TOL.reduction, 'dlogits of the valid row');
    for (const b of Object.values(bufs)) b.destroy();
  });
});
