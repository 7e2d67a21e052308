// LoRA and DoRA merges against naive Float64 references written from docs/method.md#merge and #dora in the [out, in]
// view, for nn.Linear ([out, in]) and Conv1D ([in, out]) storage, on odd shapes.
import { describe, expect, it } from 'vitest';
import { doraMerge, mergeDelta } from '../../../src/io/export';
import { uniformF32 } from '../../helpers/random';

/** ΔW[o][i] = s·Σ_k B[o,k]·A[k,i] and W'[o][i] = W[o][i] + ΔW in Float64, as [out][in] arrays. */
function naive(Wlin: Float32Array, IN: number, OUT: number, B: Float32Array, A: Float32Array, r: number, s: number): number[][] {
  const V: number[][] = [];
  for (let o = 0; o < OUT; o++) {
    V.push([]);
    for (let i = 0; i < IN; i++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += B[o * r + k] * A[k * IN + i];
      V[o].push(Wlin[o * IN + i] + s * d);
    }
  }
  return V;
}

/** [out, in] → [in, out] storage. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let a = 0; a < rows; a++) for (let b = 0; b < cols; b++) out[b * rows + a] = x[a * cols + b];
  return out;
}

const SHAPES: [IN: number, OUT: number, r: number][] = [[7, 5, 3], [48, 144, 4], [65, 45, 1], [1, 9, 2]];

describe('mergeDelta', () => {
  for (const [IN, OUT, r] of SHAPES) {
    it(`matches the Float64 reference rounded once (IN ${IN}, OUT ${OUT}, r ${r}), linear and conv1d`, () => {
      const W = uniformF32(IN * OUT, IN + OUT, -1, 1); // (OUT, IN)
      const B = uniformF32(OUT * r, 7 + r, -0.3, 0.3);
      const A = uniformF32(r * IN, 11 + r, -0.3, 0.3);
      const s = 2.5;
      const V = naive(W, IN, OUT, B, A, r, s);
      const lin = mergeDelta(W, 'linear', IN, OUT, B, A, r, s);
      const conv = mergeDelta(transpose(W, OUT, IN), 'conv1d', IN, OUT, B, A, r, s); // W stored (IN, OUT)
      let worst = 0;
      for (let o = 0; o < OUT; o++) {
        for (let i = 0; i < IN; i++) {
          const want = Math.fround(V[o][i]);
          worst = Math.max(worst, Math.abs(lin[o * IN + i] - want), Math.abs(conv[i * OUT + o] - want));
        }
      }
      expect(worst).toBe(0);
    });
  }

  it('keeps a delta far below one ulp of W per term but not in sum (one rounding, not r)', () => {
    const IN = 1, OUT = 1, r = 64;
    const W = Float32Array.of(1); // ulp(1) = 2^-23 ≈ 1.19e-7
    const B = new Float32Array(r).fill(1);
    const A = new Float32Array(r).fill(4e-8); // each term < ulp/2; the sum 2.56e-6 is ~21 ulps
    const got = mergeDelta(W, 'linear', IN, OUT, B, A, r, 1)[0];
    expect(got).toBe(Math.fround(1 + 64 * 4e-8));
    expect(got).toBeGreaterThan(1);
  });

  it('refuses inconsistent sizes', () => {
    expect(() => mergeDelta(new Float32Array(6), 'linear', 2, 3, new Float32Array(3), new Float32Array(3), 1, 1)).toThrow(/A has 3 elements/);
    expect(() => mergeDelta(new Float32Array(5), 'linear', 2, 3, new Float32Array(3), new Float32Array(2), 1, 1)).toThrow(/W has 5 elements/);
  });
});

describe('doraMerge', () => {
  for (const [IN, OUT, r] of SHAPES) {
    it(`W' = (m / ‖V‖_row)·V in the [out, in] view (IN ${IN}, OUT ${OUT}, r ${r}), linear and conv1d`, () => {
      const W = uniformF32(IN * OUT, 3 * IN + OUT, -1, 1);
      const B = uniformF32(OUT * r, 5 + r, -0.3, 0.3);
      const A = uniformF32(r * IN, 13 + r, -0.3, 0.3);
      const m = uniformF32(OUT, 17, 0.5, 2);
      const s = 0.75;
      const V = naive(W, IN, OUT, B, A, r, s);
      const lin = doraMerge(W, 'linear', IN, OUT, B, A, r, s, m);
      const conv = doraMerge(transpose(W, OUT, IN), 'conv1d', IN, OUT, B, A, r, s, m);
      let worstRel = 0;
      for (let o = 0; o < OUT; o++) {
        const norm = Math.sqrt(V[o].reduce((acc, v) => acc + v * v, 0));
        for (let i = 0; i < IN; i++) {
          const want = (m[o] / norm) * V[o][i];
          const tol = Math.abs(want) + 1e-30;
          worstRel = Math.max(worstRel, Math.abs(lin[o * IN + i] - want) / tol, Math.abs(conv[i * OUT + o] - want) / tol);
        }
      }
      expect(worstRel).toBeLessThan(2 ** -23); // within F32 rounding of the exact value
    });
  }

  it('is the identity at DoRA init (B = 0, m = ‖W‖_row)', () => {
    const IN = 9, OUT = 4, r = 2;
    const W = uniformF32(IN * OUT, 99);
    const m = new Float32Array(OUT).map((_, o) => Math.sqrt(W.subarray(o * IN, (o + 1) * IN).reduce((a, v) => a + v * v, 0)));
    const out = doraMerge(W, 'linear', IN, OUT, new Float32Array(OUT * r), uniformF32(r * IN, 3), r, 4, m);
    for (let j = 0; j < W.length; j++) expect(Math.abs(out[j] - W[j])).toBeLessThanOrEqual(Math.abs(W[j]) * 2 ** -22);
  });

  it('refuses a zero row norm (EXPORT_NONFINITE)', () => {
    const W = new Float32Array(6); // row 0 all zero, B = 0
    expect(() => doraMerge(W, 'linear', 3, 2, new Float32Array(2), new Float32Array(3), 1, 1, Float32Array.of(1, 1))).toThrow(/EXPORT_NONFINITE.*row 0/);
  });
});
