import { describe, expect, it } from 'vitest';
import {
  IGNORE_INDEX, countValid, meanLossScale, softmaxXentBackward, softmaxXentForward, softmaxXentMean,
} from '../../src/ref/softmax_xent';
import { expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

/** The scalar the trainer minimises, dloss · mean loss, as a function of the logits alone. */
function meanLoss(logits: Float64Array, targets: Int32Array, BT: number, V: number, dloss: number): number {
  const losses = new Float64Array(BT), probs = new Float64Array(BT * V), loss = new Float64Array(2);
  const s = { BT, V };
  softmaxXentForward(losses, probs, logits, targets, s);
  softmaxXentMean(loss, losses, targets, s);
  return dloss * loss[0];
}

describe('softmax_xent reference', () => {
  const cases: [string, number, number[]][] = [
    ['no ignored rows', 3, [0, 4, 2]],
    ['some ignored rows', 5, [1, IGNORE_INDEX, 6, IGNORE_INDEX, 0]],
    ['one row, V = 1', 1, [0]],
  ];
  for (const [name, BT, t] of cases) {
    it(`backward vs finite differences of the mean loss (Float64), ${name}`, () => {
      const V = name.includes('V = 1') ? 1 : 7;
      const targets = Int32Array.from(t);
      const dloss = 0.7;
      const logits = uniformF64(BT * V, 3, -3, 3);
      const losses = new Float64Array(BT), probs = new Float64Array(BT * V);
      softmaxXentForward(losses, probs, logits, targets, { BT, V });
      const dlogits = new Float64Array(BT * V);
      softmaxXentBackward(dlogits, probs, targets, { BT, V }, meanLossScale(targets, IGNORE_INDEX, dloss));
      expectGradMatches(dlogits, (x) => meanLoss(x, targets, BT, V, dloss), logits, 'dlogits');
      for (let r = 0; r < BT; r++) {
        if (targets[r] === IGNORE_INDEX) {
          expect(losses[r]).toBe(0);
          expect(dlogits.subarray(r * V, (r + 1) * V).every((g) => g === 0)).toBe(true);
        } else {
          expect(losses[r]).toBeCloseTo(-Math.log(probs[r * V + targets[r]]), 12);
        }
      }
    });
  }

  it('mean divides by the non-ignored count; all-ignored gives loss 0 and scale 0', () => {
    const targets = Int32Array.from([IGNORE_INDEX, 2, IGNORE_INDEX, 0]);
    const loss = new Float64Array(2);
    softmaxXentMean(loss, Float64Array.from([0, 1.5, 0, 2.5]), targets, { BT: 4, V: 3 });
    expect(Array.from(loss)).toEqual([2, 2]);
    expect(countValid(targets)).toBe(2);
    const none = Int32Array.from([IGNORE_INDEX, IGNORE_INDEX]);
    softmaxXentMean(loss, Float64Array.from([0, 0]), none, { BT: 2, V: 3 });
    expect(Array.from(loss)).toEqual([0, 0]);
    expect(meanLossScale(none)).toBe(0);
  });

  it('a target outside [0, V) gives a NaN loss and NaN gradients', () => {
    const targets = Int32Array.from([3, -1]);
    const losses = new Float64Array(2), probs = new Float64Array(6), d = new Float64Array(6);
    softmaxXentForward(losses, probs, uniformF64(6, 1), targets, { BT: 2, V: 3 });
    softmaxXentBackward(d, probs, targets, { BT: 2, V: 3 }, 1);
    expect(losses.every(Number.isNaN)).toBe(true);
    expect(d.every(Number.isNaN)).toBe(true);
  });
});
