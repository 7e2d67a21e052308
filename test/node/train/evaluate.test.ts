// evaluate's language-model figure: each batch's mean (evalLoss) weighted by its target count, so batches
// with different counts combine into the mean over every target — what `eval --data chat.jsonl` reports.
import { describe, expect, it } from 'vitest';
import { lmTaskData } from '../../../src/train/data';
import { evaluate } from '../../../src/train/evaluate';
import { IGNORE_INDEX } from '../../../src/ref/softmax_xent';
import type { TrainableModel } from '../../../src/model/api';

const T = 4;
// A stand-in engine whose per-target loss is the label value itself: a batch's mean is known exactly.
const batches: number[] = [];
const fake = {
  async evalLoss(_ids: Uint32Array, labels: Int32Array) {
    let sum = 0, count = 0;
    for (const y of labels) if (y !== IGNORE_INDEX) { sum += y; count++; }
    batches.push(count);
    return { loss: count ? sum / count : NaN, count };
  },
  async forwardLogits(): Promise<Float32Array> { throw new Error('the LM path must not read logits'); },
} as unknown as TrainableModel<Uint32Array> & { forwardLogits(i: Uint32Array): Promise<Float32Array> };

const ex = (labels: number[]) => ({ ids: new Uint32Array(T), labels: Int32Array.from(labels) });
const N = IGNORE_INDEX;

describe('evaluate (language model)', () => {
  it('is the mean over every target, not the mean of batch means, and reports each batch done', async () => {
    // batch 1: targets 1, 2, 3, 6 (mean 3); batch 2: target 10 (mean 10). Token-weighted: 22 / 5.
    const examples = [ex([1, 2, N, N]), ex([3, 6, N, N]), ex([10, N, N, N])];
    const ticks: [number, number][] = [];
    const r = await evaluate(fake, lmTaskData([], examples, T), 2, examples, (d, t) => ticks.push([d, t]));
    expect(batches).toEqual([4, 1]);
    expect(r.count).toBe(5);
    expect(r.loss).toBeCloseTo(22 / 5, 12);
    expect(ticks).toEqual([[2, 3], [3, 3]]);
  });
});
