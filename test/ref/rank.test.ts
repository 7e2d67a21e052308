// Cascade spectrum (src/train/rank.ts) against an independent dense oracle: ΔW = Σ c_t·B_t·A_t formed in
// Float64, its singular values as √λ of the smaller Gram matrix (ΔWᵀΔW or ΔWΔWᵀ) from a symmetric
// Jacobi eigenvalue routine written here, plus the identity Σσ² = ‖ΔW‖²_F and the known rank.
import { describe, expect, it } from 'vitest';
import { type CascadeFactor, cascadeSpectrum, frobeniusOfProduct, singularValues } from '../../src/train/rank';
import { expectAllClose } from '../helpers/allclose';
import { uniformF32 } from '../helpers/random';

/** Tolerances, each relative to σ_max of the case (atol) or to the value (rtol). */
const TOL = {
  // √λ of a Gram eigenvalue: λ has absolute error ~n·ε·σ_max², so σ ≈ 0 comes out ~√(nε)·σ_max.
  gram: { atolRel: 1e-6, rtol: 1e-9 },
  // Jacobi SVD of the dense ΔW vs QR + Jacobi of the factors: both backward stable in Float64.
  dense: { atolRel: 1e-12, rtol: 1e-10 },
  // Σσ² vs Σ ΔW_ij²: two Float64 sums of the same quantity.
  frobenius: 1e-12,
};

function randomFactor(out: number, inDim: number, r: number, seed: number, coef: number): CascadeFactor {
  return { B: uniformF32(out * r, seed), A: uniformF32(r * inDim, seed + 1000), r, coef };
}

/** ΔW (out, in) row-major, Float64. */
function denseUpdate(factors: CascadeFactor[], out: number, inDim: number): Float64Array {
  const W = new Float64Array(out * inDim);
  for (const { B, A, r, coef } of factors) {
    for (let i = 0; i < out; i++) {
      for (let l = 0; l < inDim; l++) {
        let s = 0;
        for (let j = 0; j < r; j++) s += B[i * r + j] * A[j * inDim + l];
        W[i * inDim + l] += coef * s;
      }
    }
  }
  return W;
}

/** Eigenvalues of a symmetric (n, n) matrix by cyclic Jacobi rotations, descending. */
function symmetricEigenvalues(S: Float64Array, n: number): number[] {
  const a = Float64Array.from(S);
  const total = a.reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let k = 0; k < n; k++) { // columns p, q
          const kp = a[k * n + p], kq = a[k * n + q];
          a[k * n + p] = c * kp - s * kq;
          a[k * n + q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) { // rows p, q
          const pk = a[p * n + k], qk = a[q * n + k];
          a[p * n + k] = c * pk - s * qk;
          a[q * n + k] = s * pk + c * qk;
        }
      }
    }
  }
  const d: number[] = [];
  for (let i = 0; i < n; i++) d.push(a[i * n + i]);
  return d.sort((x, y) => y - x);
}

/** σ of the dense (out, in) W as √λ of its smaller Gram matrix, descending, length min(out, in). */
function gramSingularValues(W: Float64Array, out: number, inDim: number): number[] {
  const n = Math.min(out, inDim);
  const G = new Float64Array(n * n);
  const at = out <= inDim ? (i: number, l: number) => W[i * inDim + l] : (i: number, l: number) => W[l * inDim + i];
  const len = Math.max(out, inDim);
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let l = 0; l < len; l++) s += at(p, l) * at(q, l);
      G[p * n + q] = s;
    }
  }
  return symmetricEigenvalues(G, n).map((x) => Math.sqrt(Math.max(0, x)));
}

/** Every check against the dense oracle; returns the spectrum for case-specific assertions. */
function checkAgainstDense(factors: CascadeFactor[], out: number, inDim: number, knownRank: number) {
  const spec = cascadeSpectrum(factors, out, inDim);
  const K = factors.reduce((k, f) => k + f.r, 0);
  const W = denseUpdate(factors, out, inDim);
  const fro2 = W.reduce((s, x) => s + x * x, 0);
  const gram = gramSingularValues(W, out, inDim);
  const dense = singularValues(W, out, inDim);
  const len = Math.min(K, out, inDim);
  const smax = gram[0];

  expect(spec.singularValues).toHaveLength(len);
  for (let i = 1; i < len; i++) expect(spec.singularValues[i]).toBeLessThanOrEqual(spec.singularValues[i - 1]);
  // Beyond min(K, out, in) the dense oracles can only hold zeros (rounding noise).
  expectAllClose(spec.singularValues, gram.slice(0, len), { atol: TOL.gram.atolRel * smax, rtol: TOL.gram.rtol }, 'σ vs √eig(Gram)');
  expectAllClose(spec.singularValues, dense.slice(0, len), { atol: TOL.dense.atolRel * smax, rtol: TOL.dense.rtol }, 'σ vs Jacobi SVD of dense ΔW');
  for (const s of dense.slice(len)) expect(s).toBeLessThanOrEqual(TOL.dense.atolRel * smax);
  const sumSq = spec.singularValues.reduce((s, x) => s + x * x, 0);
  expect(Math.abs(sumSq - fro2)).toBeLessThanOrEqual(TOL.frobenius * fro2);
  expect(Math.abs(spec.frobenius - Math.sqrt(fro2))).toBeLessThanOrEqual(TOL.frobenius * Math.sqrt(fro2));
  expect(spec.effectiveRank).toBe(knownRank);
  expect(gram.filter((s) => s > 1e-3 * smax)).toHaveLength(knownRank); // the oracle agrees on the rank
  return spec;
}

describe('cascadeSpectrum', () => {
  it('single factor of rank r: effective rank r, entropy rank from the same σ', () => {
    const out = 45, inDim = 65, r = 4;
    const spec = checkAgainstDense([randomFactor(out, inDim, r, 1, 2)], out, inDim, r);
    const sum = spec.singularValues.reduce((a, s) => a + s, 0);
    const h = -spec.singularValues.reduce((a, s) => a + (s / sum) * Math.log(s / sum), 0);
    expect(spec.entropyRank).toBeCloseTo(Math.exp(h), 12);
    expect(spec.entropyRank).toBeGreaterThan(1);
    expect(spec.entropyRank).toBeLessThanOrEqual(r);
  });

  it('T random factors of rank r grow to T·r when T·r ≤ min(out, in)', () => {
    const out = 40, inDim = 33, r = 3, T = 5;
    const factors = Array.from({ length: T }, (_, t) => randomFactor(out, inDim, r, 10 + t, 0.5 * (t + 1)));
    checkAgainstDense(factors, out, inDim, T * r);
  });

  it('duplicated factors do not grow the rank (Σc_t scales the spectrum)', () => {
    const out = 30, inDim = 21, r = 4;
    const f = randomFactor(out, inDim, r, 20, 1);
    const dup = [0.5, 0.25, 1.25].map((coef) => ({ ...f, coef }));
    const one = cascadeSpectrum([f], out, inDim);
    const spec = checkAgainstDense(dup, out, inDim, r);
    expectAllClose(spec.singularValues.slice(0, r), one.singularValues.map((s) => 2 * s), { atol: 0, rtol: 1e-12 }, '2·σ(BA)');
  });

  it('a shared B with fresh A_t stays within the column space of B: rank r', () => {
    const out = 30, inDim = 21, r = 3;
    const B = uniformF32(out * r, 30);
    const factors = [31, 32, 33].map((seed, t) => ({ B, A: uniformF32(r * inDim, seed), r, coef: t + 1 }));
    checkAgainstDense(factors, out, inDim, r);
  });

  it('factors that cancel exactly (c and −c) have rank 0, not rank of their rounding noise', () => {
    const out = 16, inDim = 24, r = 4;
    const f = randomFactor(out, inDim, r, 40, 0.7);
    const spec = cascadeSpectrum([f, { ...f, coef: -0.7 }], out, inDim);
    expect(spec.effectiveRank).toBe(0);
    expect(spec.entropyRank).toBe(0);
    // QR and Jacobi round, so σ and ‖ΔW‖_F are rounding noise, far below the experts' own size.
    const size = 0.7 * frobeniusOfProduct(f.B, f.A, r, out, inDim, 1);
    expect(spec.frobenius).toBeLessThanOrEqual(1e-13 * size);
    for (const s of spec.singularValues) expect(s).toBeLessThanOrEqual(1e-13 * size);
  });

  it('K > out: length min(K, out, in) and rank out', () => {
    const out = 12, inDim = 20;
    checkAgainstDense([0, 1, 2, 3].map((t) => randomFactor(out, inDim, 5, 50 + t, 1)), out, inDim, 12);
  });

  it('K > in: length in and rank in', () => {
    const out = 30, inDim = 8;
    checkAgainstDense([0, 1, 2].map((t) => randomFactor(out, inDim, 4, 60 + t, 0.3)), out, inDim, 8);
  });

  it('K > out and K > in', () => {
    const out = 6, inDim = 7;
    checkAgainstDense([0, 1, 2, 3, 4].map((t) => randomFactor(out, inDim, 2, 70 + t, 1)), out, inDim, 6);
  });

  it('zero B: all σ = 0, ranks 0, norm 0', () => {
    const out = 10, inDim = 9, r = 3;
    const zero = { B: new Float32Array(out * r), A: uniformF32(r * inDim, 80), r, coef: 2 };
    const spec = cascadeSpectrum([zero, { ...zero, A: uniformF32(r * inDim, 81) }], out, inDim);
    expect(spec).toEqual({ singularValues: new Array(6).fill(0), effectiveRank: 0, entropyRank: 0, frobenius: 0 });
  });

  it('a zero expert among random ones adds nothing', () => {
    const out = 25, inDim = 18, r = 3;
    const zero = { B: new Float32Array(out * r), A: uniformF32(r * inDim, 90), r, coef: 1 };
    checkAgainstDense([randomFactor(out, inDim, r, 91, 1), zero, randomFactor(out, inDim, r, 92, 1)], out, inDim, 2 * r);
  });

  it('no factors: empty spectrum', () => {
    expect(cascadeSpectrum([], 4, 5)).toEqual({ singularValues: [], effectiveRank: 0, entropyRank: 0, frobenius: 0 });
  });

  it('known example: orthonormal Hadamard directions give σ = (2.5, 1.5, 0.5) exactly', () => {
    // H = H4/2 is orthogonal with entries ±½ (exact in Float32). ΔW = Σ_j σ_j·H[:, j]·[H[j, :], 0, 0],
    // split into two experts: c = ½ with B columns 5·H[:, 0], 3·H[:, 1]; c = 2 with B column ¼·H[:, 2].
    const H = [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]].map((row) => row.map((x) => x / 2));
    const out = 4, inDim = 6;
    const B1 = new Float32Array(out * 2), A1 = new Float32Array(2 * inDim);
    const B2 = new Float32Array(out), A2 = new Float32Array(inDim);
    for (let i = 0; i < 4; i++) {
      B1[i * 2] = 5 * H[i][0];
      B1[i * 2 + 1] = 3 * H[i][1];
      B2[i] = 0.25 * H[i][2];
      A1[i] = H[0][i];
      A1[inDim + i] = H[1][i];
      A2[i] = H[2][i];
    }
    const factors = [{ B: B1, A: A1, r: 2, coef: 0.5 }, { B: B2, A: A2, r: 1, coef: 2 }];
    const spec = cascadeSpectrum(factors, out, inDim);
    expectAllClose(spec.singularValues, [2.5, 1.5, 0.5], { atol: 1e-15, rtol: 1e-14 }, 'σ');
    expect(spec.effectiveRank).toBe(3);
    expect(spec.frobenius).toBeCloseTo(Math.sqrt(6.25 + 2.25 + 0.25), 14);
    const p = [5 / 9, 3 / 9, 1 / 9];
    expect(spec.entropyRank).toBeCloseTo(Math.exp(-p.reduce((a, x) => a + x * Math.log(x), 0)), 13);
    // relTol is the option: σ > 0.25·2.5 = 0.625 keeps two values.
    expect(cascadeSpectrum(factors, out, inDim, 0.25).effectiveRank).toBe(2);
    checkAgainstDense(factors, out, inDim, 3);
  });

  it('rejects malformed factors with the failing field named', () => {
    const f = randomFactor(4, 5, 2, 1, 1);
    expect(() => cascadeSpectrum([{ ...f, r: 3 }], 4, 5)).toThrow(/factor 0: B.length=8 ≠ out·r=4·3/);
    expect(() => cascadeSpectrum([f], 4, 6)).toThrow(/A.length=10 ≠ r·in=2·6/);
    expect(() => cascadeSpectrum([{ ...f, coef: NaN }], 4, 5)).toThrow(/coef=NaN/);
    expect(() => cascadeSpectrum([{ ...f, A: Float32Array.from(f.A, (x, i) => (i === 3 ? NaN : x)) }], 4, 5)).toThrow(/A\[3\]=NaN/);
    expect(() => cascadeSpectrum([f], 4, 5, 1)).toThrow(/relTol=1/);
    expect(() => cascadeSpectrum([f], 0, 5)).toThrow(/out=0/);
  });
});

describe('singularValues', () => {
  it('[[3, 0], [4, 5]]: MᵀM = [[25, 20], [20, 25]], λ = 45, 5 → σ = 3√5, √5 (tall, wide, transposed)', () => {
    const want = [3 * Math.sqrt(5), Math.sqrt(5)];
    const tol = { atol: 0, rtol: 1e-15 };
    expectAllClose(singularValues(Float64Array.of(3, 0, 4, 5), 2, 2), want, tol, 'square');
    expectAllClose(singularValues(Float64Array.of(3, 4, 0, 5), 2, 2), want, tol, 'transposed');
    expectAllClose(singularValues(Float64Array.of(3, 0, 0, 4, 5, 0), 2, 3), want, tol, 'wide (2, 3)');
    expectAllClose(singularValues(Float64Array.of(3, 4, 0, 5, 0, 0), 3, 2), want, tol, 'tall (3, 2)');
    expect(singularValues(Float64Array.of(3, 4), 1, 2)).toEqual([5]);
  });

  it('random 45×65 matches √eig of the Gram matrix', () => {
    const M = Float64Array.from(uniformF32(45 * 65, 7));
    const gram = gramSingularValues(M, 45, 65);
    expectAllClose(singularValues(M, 45, 65), gram, { atol: 0, rtol: 1e-10 }, 'σ');
  });

  it('does not modify its input; rejects a wrong length', () => {
    const M = Float64Array.of(1, 2, 3, 4, 5, 6);
    singularValues(M, 3, 2);
    expect(Array.from(M)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => singularValues(M, 2, 2)).toThrow(/M.length=6 ≠ rows·cols=2·2/);
  });
});

describe('frobeniusOfProduct', () => {
  it('equals ‖c·B·A‖_F of the dense product, for negative c too', () => {
    for (const [out, inDim, r, coef] of [[45, 65, 4, -1.5], [7, 3, 5, 0.25], [1, 1, 1, 2]]) {
      const f = randomFactor(out, inDim, r, out + inDim, coef);
      const W = denseUpdate([f], out, inDim);
      const want = Math.sqrt(W.reduce((s, x) => s + x * x, 0));
      expect(Math.abs(frobeniusOfProduct(f.B, f.A, r, out, inDim, coef) - want)).toBeLessThanOrEqual(1e-12 * want);
    }
  });

  it('is 0 for B = 0 and rejects a shape mismatch', () => {
    expect(frobeniusOfProduct(new Float32Array(6), uniformF32(8, 1), 2, 3, 4, 1)).toBe(0);
    expect(() => frobeniusOfProduct(new Float32Array(6), new Float32Array(8), 2, 3, 5, 1)).toThrow(/A.length=8 ≠ r·in=2·5/);
  });
});
