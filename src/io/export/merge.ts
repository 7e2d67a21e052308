// LoRA and DoRA merges in F32 storage with Float64 arithmetic (docs/method.md#merge, docs/method.md#dora): each element's
// dot product Σ_k B[o,k]·A[k,i] is accumulated in Float64 and the result rounded to F32 once, so small
// deltas do not vanish below one ulp of W half-way (peft#1388, #2502).
//   nn.Linear W [out, in]:  W' = W + s·B@A
//   Conv1D    W [in, out]:  W' = W + s·(B@A)ᵀ
//   DoRA: in the [out, in] view V = W + s·B@A, norm_o = ‖V[o, :]‖₂, W' = (m_o / norm_o)·V[o, :]
//   (for Conv1D the rows of the [out, in] view are the columns of the stored matrix).
import type { WeightLayout } from '../peft/modules';
import { ExportError } from './errors';

const MERGE_FILE = '<merge>';

function check(W: Float32Array, IN: number, OUT: number, B: Float32Array, A: Float32Array, r: number, scale: number): void {
  const bad = (detail: string): never => {
    throw new ExportError('EXPORT_INVALID', MERGE_FILE, detail);
  };
  for (const [n, v] of [['IN', IN], ['OUT', OUT], ['r', r]] as const) if (!Number.isSafeInteger(v) || v < 1) bad(`${n}=${v} must be a positive integer`);
  if (W.length !== IN * OUT) bad(`W has ${W.length} elements; IN·OUT = ${IN * OUT}`);
  if (B.length !== OUT * r) bad(`B has ${B.length} elements; OUT·r = ${OUT * r}`);
  if (A.length !== r * IN) bad(`A has ${A.length} elements; r·IN = ${r * IN}`);
  if (!Number.isFinite(scale)) bad(`scale ${scale} is not finite`);
}

/**
 * Calls `visit(o, i, idx, v)` for every element with v = W[idx] + s·(B@A)[o, i] in Float64, where idx is
 * the element's index in W's own layout.
 */
function forEachMerged(
  W: Float32Array, layout: WeightLayout, IN: number, OUT: number, B: Float32Array, A: Float32Array, r: number, scale: number,
  visit: (o: number, idx: number, v: number) => void,
): void {
  const At = new Float64Array(IN * r); // (IN, r): A transposed, so the inner loop is contiguous
  for (let k = 0; k < r; k++) for (let i = 0; i < IN; i++) At[i * r + k] = A[k * IN + i];
  const brow = new Float64Array(r);
  for (let o = 0; o < OUT; o++) {
    for (let k = 0; k < r; k++) brow[k] = B[o * r + k];
    for (let i = 0; i < IN; i++) {
      let d = 0;
      const base = i * r;
      for (let k = 0; k < r; k++) d += brow[k] * At[base + k];
      const idx = layout === 'conv1d' ? i * OUT + o : o * IN + i;
      visit(o, idx, W[idx] + scale * d);
    }
  }
}

/** W + ΔW for one module; W is [in, out] ('conv1d') or [out, in] ('linear'); B (OUT, r), A (r, IN). */
export function mergeDelta(
  W: Float32Array, layout: WeightLayout, IN: number, OUT: number, B: Float32Array, A: Float32Array, r: number, scale: number,
): Float32Array {
  check(W, IN, OUT, B, A, r, scale);
  const out = new Float32Array(W.length);
  forEachMerged(W, layout, IN, OUT, B, A, r, scale, (_o, idx, v) => {
    out[idx] = v; // the one rounding to F32
  });
  return out;
}

/**
 * DoRA merge W' = (m / ‖V‖_row)[:, None] ⊙ V with V = W + s·B@A in the [out, in] view; `magnitude` (OUT).
 * A zero row norm has no finite result and is refused (EXPORT_NONFINITE), as PEFT's safe_merge would.
 */
export function doraMerge(
  W: Float32Array, layout: WeightLayout, IN: number, OUT: number, B: Float32Array, A: Float32Array, r: number, scale: number,
  magnitude: Float32Array,
): Float32Array {
  check(W, IN, OUT, B, A, r, scale);
  if (magnitude.length !== OUT) throw new ExportError('EXPORT_INVALID', MERGE_FILE, `magnitude has ${magnitude.length} elements; OUT = ${OUT}`);
  const V = new Float64Array(W.length); // in W's own layout
  const sq = new Float64Array(OUT); // Σ_i V[o, i]²
  forEachMerged(W, layout, IN, OUT, B, A, r, scale, (o, idx, v) => {
    V[idx] = v;
    sq[o] += v * v;
  });
  const factor = new Float64Array(OUT);
  for (let o = 0; o < OUT; o++) {
    factor[o] = magnitude[o] / Math.sqrt(sq[o]);
    if (!Number.isFinite(factor[o])) {
      throw new ExportError('EXPORT_NONFINITE', MERGE_FILE, `DoRA row ${o}: magnitude ${magnitude[o]} / norm ${Math.sqrt(sq[o])} is not finite`);
    }
  }
  const out = new Float32Array(W.length);
  for (let idx = 0; idx < W.length; idx++) {
    const o = layout === 'conv1d' ? idx % OUT : Math.floor(idx / IN);
    out[idx] = factor[o] * V[idx];
  }
  return out;
}
