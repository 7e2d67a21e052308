// The merge check on sampled rows (docs/formats.md#parity): a correct LoRA or DoRA merge passes in both storage
// layouts; the usual ways a merge goes wrong fail it, including a dropped delta a millionth of W (a two-step
// run's size) and a delta merged into the wrong module; the sampled rows are fixed by the seed.
import { describe, expect, it } from 'vitest';
import { checkMergedRows, doraMerge, MERGE_CHECK_ROWS, MERGE_CHECK_ULPS, mergeCheckUlps, mergeDelta, type MergeCheckModule, sampleRows } from '../../../src/io/export';
import { uniformF32 } from '../../helpers/random';

function moduleOf(layout: 'linear' | 'conv1d', IN: number, OUT: number, r: number, deltaScale: number, dora = false): { m: MergeCheckModule; W: Float32Array } {
  const W = uniformF32(IN * OUT, IN * 3 + OUT, -1, 1);
  const m: MergeCheckModule = {
    weight: `h.0.${layout}.weight`, layout, IN, OUT, r, scale: 2,
    A: uniformF32(r * IN, 5 + r, -1, 1), B: uniformF32(OUT * r, 9 + r, -deltaScale, deltaScale),
    ...(dora ? { magnitude: uniformF32(OUT, 17, 0.5, 1.5) } : {}),
  };
  return { m, W };
}

const merge = (m: MergeCheckModule, W: Float32Array) => (m.magnitude
  ? doraMerge(W, m.layout, m.IN, m.OUT, m.B, m.A, m.r, m.scale, m.magnitude)
  : mergeDelta(W, m.layout, m.IN, m.OUT, m.B, m.A, m.r, m.scale));

describe('checkMergedRows', () => {
  for (const layout of ['linear', 'conv1d'] as const) {
    for (const dora of [false, true]) {
      it(`passes a correct ${dora ? 'DoRA' : 'LoRA'} merge (${layout}) and fails corrupted ones`, async () => {
        const { m, W } = moduleOf(layout, 37, 53, 3, 1e-6, dora);
        const good = merge(m, W);
        const ok = await checkMergedRows([m], () => W, () => good);
        expect(ok.passes, JSON.stringify(ok)).toBe(true);
        expect(ok.rows).toBe(MERGE_CHECK_ROWS);
        expect(ok.maxUlps).toBeLessThanOrEqual(1);

        const corrupt: [string, Float32Array][] = [
          ['delta dropped (1e-6 of W)', dora ? doraMerge(W, layout, m.IN, m.OUT, new Float32Array(m.B.length), m.A, m.r, m.scale, m.magnitude!) : W.slice()],
          ['scale doubled', merge({ ...m, scale: 2 * m.scale }, W)],
          ['B·A transposed into the other layout', merge({ ...m, layout: layout === 'linear' ? 'conv1d' : 'linear' }, W)],
          ['every row off by one element', good.map((v, i) => (i % m.IN === 0 ? v + 1e-3 : v))],
        ];
        if (!dora) corrupt.push(['another adapter\'s delta', merge({ ...m, A: uniformF32(m.A.length, 99, -1, 1) }, W)]);
        for (const [what, bad] of corrupt) {
          const c = await checkMergedRows([m], () => W, () => bad);
          expect(c.passes, what).toBe(false);
          expect(c.worst?.tensor, what).toBe(m.weight);
        }
      });
    }
  }

  it('holds a cascade to its merges: K sequential F32 merges pass mergeCheckUlps(K); one dropped iteration fails', async () => {
    // A cascade's slow weight is W + Σ s·B_k·A_k merged one iteration at a time in F32; its stacked adapter (rank K·r)
    // is what the check re-merges once in Float64 (docs/method.md#cascade-export).
    const K = 8, r = 2, IN = 29, OUT = 41;
    const W = uniformF32(IN * OUT, 3, -1, 1);
    const As = Array.from({ length: K }, (_, k) => uniformF32(r * IN, 100 + k, -1, 1));
    const Bs = Array.from({ length: K }, (_, k) => uniformF32(OUT * r, 200 + k, -0.3, 0.3));
    let slow = W, withoutLast = W;
    for (let k = 0; k < K; k++) {
      slow = mergeDelta(slow, 'linear', IN, OUT, Bs[k], As[k], r, 1.5);
      if (k === K - 2) withoutLast = slow;
    }
    const A = new Float32Array(K * r * IN), B = new Float32Array(OUT * K * r);
    for (let k = 0; k < K; k++) {
      A.set(As[k], k * r * IN);
      for (let o = 0; o < OUT; o++) for (let j = 0; j < r; j++) B[o * K * r + k * r + j] = Bs[k][o * r + j];
    }
    const m: MergeCheckModule = { weight: 'h.0.cascade.weight', layout: 'linear', IN, OUT, A, B, r: K * r, scale: 1.5 };
    const ok = await checkMergedRows([m], () => W, () => slow, { ulps: mergeCheckUlps(K) });
    expect(ok.passes, JSON.stringify(ok)).toBe(true);
    expect(ok.allowed).toBe(MERGE_CHECK_ULPS * K);
    expect(ok.maxUlps).toBeGreaterThan(0);
    const bad = await checkMergedRows([m], () => W, () => withoutLast, { ulps: mergeCheckUlps(K) });
    expect(bad.passes).toBe(false);
    expect(mergeCheckUlps(1)).toBe(MERGE_CHECK_ULPS);
    expect(mergeCheckUlps(0)).toBe(MERGE_CHECK_ULPS);
  });

  it('reports a module the merge left out', async () => {
    const { m, W } = moduleOf('linear', 8, 8, 2, 0.1);
    const c = await checkMergedRows([m], () => W, () => undefined);
    expect(c.passes).toBe(false);
    expect(c.missing).toEqual([m.weight]);
  });

  it('draws the same rows for a seed and name, different ones for another name, all rows of a short tensor', () => {
    expect(sampleRows(151_936, 'lm_head.weight')).toEqual(sampleRows(151_936, 'lm_head.weight'));
    expect(sampleRows(151_936, 'lm_head.weight')).not.toEqual(sampleRows(151_936, 'embed_tokens.weight'));
    expect(sampleRows(151_936, 'x', 4, 1)).not.toEqual(sampleRows(151_936, 'x', 4, 2));
    const rows = sampleRows(1000, 'x', 6);
    expect(new Set(rows).size).toBe(6);
    expect(rows.every((r) => r >= 0 && r < 1000)).toBe(true);
    expect(sampleRows(3, 'x')).toEqual([0, 1, 2]);
  });

  it('flags a NaN in a sampled row as the worst element', async () => {
    const { m, W } = moduleOf('linear', 6, 3, 1, 0.1);
    const bad = merge(m, W);
    bad[4] = NaN;
    const c = await checkMergedRows([m], () => W, () => bad);
    expect(c.maxUlps).toBe(Infinity);
    expect(c.passes).toBe(false);
  });
});
