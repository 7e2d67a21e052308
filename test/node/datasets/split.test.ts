// Deterministic split and per-epoch order: same seed → same result, every item used exactly once.
import { describe, expect, it } from 'vitest';
import { batches, epochOrder, splitTrainVal } from '../../../src/io/datasets';
import { catchDatasetError } from './helpers';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('splitTrainVal', () => {
  it('is deterministic, disjoint, complete and order-preserving', () => {
    const items = range(100).map((i) => `item${i}`);
    const a = splitTrainVal(items, 0.2, 42);
    const b = splitTrainVal(items, 0.2, 42);
    expect(a).toEqual(b);
    expect(a.val).toHaveLength(20);
    expect(a.train).toHaveLength(80);
    expect([...a.train, ...a.val].sort()).toEqual([...items].sort());
    const idx = (xs: string[]) => xs.map((x) => Number(x.slice(4)));
    expect(idx(a.train)).toEqual([...idx(a.train)].sort((x, y) => x - y));
    expect(idx(a.val)).toEqual([...idx(a.val)].sort((x, y) => x - y));
    expect(splitTrainVal(items, 0.2, 43).val).not.toEqual(a.val);
    expect(a.val).not.toEqual(items.slice(0, 20));
  });

  it('keeps at least one validation and one training item', () => {
    expect(splitTrainVal(range(10), 0.01, 1).val).toHaveLength(1);
    expect(splitTrainVal(range(2), 0.9, 1).train).toHaveLength(1);
    expect(splitTrainVal(range(1), 0.5, 1)).toEqual({ train: [0], val: [] });
    expect(splitTrainVal(range(5), 0, 1)).toEqual({ train: range(5), val: [] });
    expect(splitTrainVal([], 0.1, 1)).toEqual({ train: [], val: [] });
  });

  it('refuses bad arguments', () => {
    for (const f of [-0.1, 1, NaN, 2]) expect(catchDatasetError(() => splitTrainVal(range(4), f, 1)).code).toBe('DATA_ARGS');
    expect(catchDatasetError(() => splitTrainVal(range(4), 0.5, -1)).code).toBe('DATA_ARGS');
  });
});

describe('epochOrder', () => {
  it('is a permutation, the same for the same (n, seed, epoch) and different across epochs and seeds', () => {
    const a = epochOrder(1000, 7, 3);
    expect([...a].sort((x, y) => x - y)).toEqual(range(1000));
    expect(epochOrder(1000, 7, 3)).toEqual(a);
    expect(epochOrder(1000, 7, 4)).not.toEqual(a);
    expect(epochOrder(1000, 8, 3)).not.toEqual(a);
    expect(a).not.toEqual(Uint32Array.from(range(1000)));
  });

  it('pins the order (exact resume across versions depends on it)', () => {
    expect([...epochOrder(8, 0, 0)]).toEqual([1, 6, 5, 4, 0, 2, 7, 3]);
  });

  it('handles n = 0 and 1 and refuses bad arguments', () => {
    expect([...epochOrder(0, 1, 0)]).toEqual([]);
    expect([...epochOrder(1, 1, 0)]).toEqual([0]);
    expect(catchDatasetError(() => epochOrder(-1, 1, 0)).code).toBe('DATA_ARGS');
    expect(catchDatasetError(() => epochOrder(3, 1, 0.5)).code).toBe('DATA_ARGS');
  });
});

describe('batches', () => {
  const order = Uint32Array.from([5, 3, 1, 0, 2, 4, 6]);
  it('cuts consecutive batches, keeping or dropping the short last one', () => {
    expect(batches(order, 3, false).map((b) => [...b])).toEqual([[5, 3, 1], [0, 2, 4], [6]]);
    expect(batches(order, 3, true).map((b) => [...b])).toEqual([[5, 3, 1], [0, 2, 4]]);
    expect(batches(order, 7, true).map((b) => [...b])).toEqual([[5, 3, 1, 0, 2, 4, 6]]);
    expect(batches(order, 8, true)).toEqual([]);
    expect(batches(new Uint32Array(0), 2, false)).toEqual([]);
  });
  it('refuses a bad batch size', () => {
    for (const b of [0, -2, 1.5]) expect(catchDatasetError(() => batches(order, b, false)).code).toBe('DATA_ARGS');
  });
});
