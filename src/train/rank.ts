// Rank growth of a cascade (docs/method.md#rank-growth): the exact singular values of the accumulated
// update ΔW = Σ_t c_t·B_t·A_t without forming the dense (out, in) matrix.
//
// ΔW = U·V with U = [c_1 B_1 … c_T B_T] (out, K) and V = [A_1; …; A_T] (K, in), K = Σ r_t.
// With U = Q_u·R_u and Vᵀ = Q_v·R_v (orthonormal columns in Q), ΔW = Q_u·(R_u·R_vᵀ)·Q_vᵀ, so ΔW and
// the small matrix R_u·R_vᵀ have the same singular values. All arithmetic is Float64: the factors
// are Float32, so widening them is exact and only the QR and the SVD round.

export interface CascadeFactor {
  B: Float32Array; // (out, r) row-major
  A: Float32Array; // (r, in) row-major
  r: number;
  coef: number; // c_t, e.g. α·s for a LoRASC expert
}

export interface Spectrum {
  singularValues: number[]; // descending, length min(K, out, in)
  effectiveRank: number; // count of σ > relTol·σ_max
  entropyRank: number; // exp(−Σ p_i ln p_i), p_i = σ_i / Σσ (Roy & Vetterli 2007)
  frobenius: number; // ‖ΔW‖_F
}

// Jacobi stops rotating a column pair once |cos angle| ≤ m·ε: below that the pair is orthogonal to
// working precision, and the singular values are then accurate to ~m·ε relative (Demmel–Veselić).
const MAX_SWEEPS = 60;

// σ below this multiple of ε·K·Σ_t |c_t|·‖B_t‖_F·‖A_t‖_F is Float64 rounding, not rank: without it
// factors that cancel exactly (c and −c) would count their rounding noise as full rank.
const NOISE_ULPS = 64;

export function cascadeSpectrum(factors: CascadeFactor[], out: number, inDim: number, relTol = 1e-3): Spectrum {
  checkDim(out, 'out');
  checkDim(inDim, 'in');
  if (!(relTol >= 0 && relTol < 1)) throw new RangeError(`cascadeSpectrum: relTol=${relTol} not in [0, 1)`);
  factors.forEach((f, t) => checkFactor(f.B, f.A, f.r, out, inDim, f.coef, `cascadeSpectrum: factor ${t}`));
  const K = factors.reduce((k, f) => k + f.r, 0);

  // U column-major (column k = c_t·B_t[:, j]) and Vᵀ column-major (column k = A_t[j, :], i.e. V row-major).
  const U = new Float64Array(out * K);
  const Vt = new Float64Array(inDim * K);
  let k = 0;
  let scale = 0; // Σ_t |c_t|·‖B_t‖_F·‖A_t‖_F ≥ ‖ΔW‖_F, the size rounding errors scale with
  for (const f of factors) {
    for (let j = 0; j < f.r; j++, k++) {
      for (let i = 0; i < out; i++) U[k * out + i] = f.coef * f.B[i * f.r + j];
      for (let l = 0; l < inDim; l++) Vt[k * inDim + l] = f.A[j * inDim + l];
    }
    scale += Math.abs(f.coef) * Math.sqrt(sumSquares(f.B)) * Math.sqrt(sumSquares(f.A));
  }

  const Ru = triangularFactor(U, out, K); // (mu, K), mu = min(out, K)
  const Rv = triangularFactor(Vt, inDim, K); // (mv, K), mv = min(in, K)
  const mu = Math.min(out, K);
  const mv = Math.min(inDim, K);
  const M = new Float64Array(mu * mv); // R_u·R_vᵀ, (mu, mv)
  for (let i = 0; i < mu; i++) {
    for (let j = 0; j < mv; j++) {
      let s = 0;
      for (let q = 0; q < K; q++) s += Ru[i * K + q] * Rv[j * K + q];
      M[i * mv + j] = s;
    }
  }

  const sv = singularValues(M, mu, mv);
  const floor = NOISE_ULPS * Math.max(1, K) * Number.EPSILON * scale;
  const signal = sv.filter((s) => s > floor);
  const sigmaMax = signal.length > 0 ? signal[0] : 0;
  return {
    singularValues: sv,
    effectiveRank: signal.filter((s) => s > relTol * sigmaMax).length,
    entropyRank: entropyRank(signal),
    frobenius: Math.sqrt(sumSquares(M)), // orthogonal Q_u, Q_v preserve the Frobenius norm
  };
}

/** Singular values of a (rows, cols) row-major matrix, descending, length min(rows, cols).
 *  One-sided (Hestenes) Jacobi in Float64; M is not modified. */
export function singularValues(M: Float64Array, rows: number, cols: number): number[] {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`singularValues: rows=${rows}, cols=${cols} must be integers ≥ 0`);
  }
  if (M.length !== rows * cols) {
    throw new RangeError(`singularValues: M.length=${M.length} ≠ rows·cols=${rows}·${cols}`);
  }
  // Orthogonalise the columns of the tall orientation (m ≥ n): n column norms are then exactly the
  // min(rows, cols) singular values. Column j of W is contiguous at W[j·m …].
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const W = new Float64Array(m * n);
  if (rows >= cols) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) W[j * m + i] = M[i * cols + j];
  } else {
    W.set(M); // wide: the columns of Mᵀ are the rows of M, already contiguous
  }
  return jacobiColumnNorms(W, m, n);
}

/** ‖c·B·A‖_F via traces, O((out + in)·r²) instead of O(out·in·r):
 *  ‖BA‖²_F = tr(Aᵀ BᵀB A) = tr((BᵀB)(AAᵀ)) = Σ_ab (BᵀB)_ab (AAᵀ)_ab, both Gram matrices (r, r). */
export function frobeniusOfProduct(
  B: Float32Array, A: Float32Array, r: number, out: number, inDim: number, coef: number,
): number {
  checkDim(out, 'out');
  checkDim(inDim, 'in');
  checkFactor(B, A, r, out, inDim, coef, 'frobeniusOfProduct');
  let s = 0;
  for (let a = 0; a < r; a++) {
    for (let b = a; b < r; b++) {
      let gB = 0;
      for (let i = 0; i < out; i++) gB += B[i * r + a] * B[i * r + b];
      let gA = 0;
      for (let l = 0; l < inDim; l++) gA += A[a * inDim + l] * A[b * inDim + l];
      s += (a === b ? 1 : 2) * gB * gA; // symmetric: off-diagonal terms appear twice
    }
  }
  // The sum is ≥ 0 in exact arithmetic (trace of a product of two PSD matrices); clamp rounding.
  return Math.abs(coef) * Math.sqrt(Math.max(0, s));
}

/** Upper-triangular factor of a column-major (m, K) matrix X, returned row-major (min(m, K), K).
 *  m ≥ K: Householder QR, X = Q·R with R (K, K). m < K: X is already "short", and X = I·X is an exact
 *  factorisation with orthonormal Q = I; R = X keeps every row. (A Gram matrix XᵀX would also be
 *  exact in theory but squares the condition number, losing the small singular values.) X is overwritten. */
function triangularFactor(X: Float64Array, m: number, K: number): Float64Array {
  const rows = Math.min(m, K);
  const R = new Float64Array(rows * K);
  if (m < K) {
    for (let i = 0; i < m; i++) for (let j = 0; j < K; j++) R[i * K + j] = X[j * m + i];
    return R;
  }
  for (let j = 0; j < K; j++) {
    const cj = j * m;
    let norm2 = 0;
    for (let i = j; i < m; i++) norm2 += X[cj + i] * X[cj + i];
    const x0 = X[cj + j];
    if (norm2 > 0) {
      // Reflect x = X[j:, j] onto α·e1; α takes the sign opposite to x0 so v0 = x0 − α never cancels.
      const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
      X[cj + j] = x0 - alpha; // v = x − α·e1, stored in place
      const vtv = norm2 - x0 * x0 + X[cj + j] * X[cj + j];
      for (let c = j + 1; c < K; c++) {
        const cc = c * m;
        let dot = 0;
        for (let i = j; i < m; i++) dot += X[cj + i] * X[cc + i];
        const f = (2 * dot) / vtv;
        for (let i = j; i < m; i++) X[cc + i] -= f * X[cj + i];
      }
      R[j * K + j] = alpha;
    } // norm2 = 0: column already zero from row j down; the reflection is the identity, R_jj = 0
    for (let c = j + 1; c < K; c++) R[j * K + c] = X[c * m + j]; // later reflections leave row j alone
  }
  return R;
}

/** Rotate column pairs of the column-major (m, n) W until all are orthogonal; return sorted norms. */
function jacobiColumnNorms(W: Float64Array, m: number, n: number): number[] {
  const tol = Math.max(1, m) * Number.EPSILON;
  // Columns below ε·‖W‖_F cannot move the singular values above that level: skipping them stops
  // endless rotations among pure rounding noise in rank-deficient inputs.
  const negligible = Number.EPSILON * Number.EPSILON * sumSquares(W);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const cp = p * m, cq = q * m;
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < m; i++) {
          const a = W[cp + i], b = W[cq + i];
          alpha += a * a;
          beta += b * b;
          gamma += a * b;
        }
        if (alpha <= negligible || beta <= negligible) continue;
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // Rotation zeroing the pair's inner product; t is the smaller root of t² + 2ζt − 1 = 0 (|θ| ≤ π/4).
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.abs(zeta) > 1e150
          ? 1 / (2 * zeta)
          : Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const a = W[cp + i], b = W[cq + i];
          W[cp + i] = c * a - s * b;
          W[cq + i] = s * a + c * b;
        }
      }
    }
    // Cyclic Jacobi converges quadratically; a sweep cap only guards against a pathological input,
    // where the norms after MAX_SWEEPS sweeps are still the best available estimate.
    if (!rotated) break;
  }
  const norms: number[] = [];
  for (let j = 0; j < n; j++) norms.push(Math.sqrt(sumSquares(W.subarray(j * m, (j + 1) * m))));
  return norms.sort((a, b) => b - a);
}

function entropyRank(sigma: number[]): number {
  const total = sigma.reduce((a, s) => a + s, 0);
  if (total === 0) return 0;
  let h = 0;
  for (const s of sigma) {
    const p = s / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

function sumSquares(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

function checkDim(d: number, name: string): void {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`rank: ${name}=${d} must be an integer ≥ 1`);
}

function checkFactor(
  B: Float32Array, A: Float32Array, r: number, out: number, inDim: number, coef: number, where: string,
): void {
  if (!Number.isInteger(r) || r < 0) throw new RangeError(`${where}: r=${r} must be an integer ≥ 0`);
  if (B.length !== out * r) throw new RangeError(`${where}: B.length=${B.length} ≠ out·r=${out}·${r}`);
  if (A.length !== r * inDim) throw new RangeError(`${where}: A.length=${A.length} ≠ r·in=${r}·${inDim}`);
  if (!Number.isFinite(coef)) throw new RangeError(`${where}: coef=${coef} is not finite`);
  // A NaN would never satisfy Jacobi's convergence test: name it here instead.
  const bad = (x: Float32Array) => x.findIndex((v) => !Number.isFinite(v));
  if (bad(B) >= 0) throw new RangeError(`${where}: B[${bad(B)}]=${B[bad(B)]} is not finite`);
  if (bad(A) >= 0) throw new RangeError(`${where}: A[${bad(A)}]=${A[bad(A)]} is not finite`);
}
