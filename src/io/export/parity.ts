// The parity figure shown before download (docs/formats.md#parity): logits of base + adapter (unmerged) against
// those of the merged model. Target max-abs ≤ 1e-4 in F32 (PEFT's own merge-test tolerance). A NaN or
// Inf in either side is reported and flagged: maxAbs / maxRel are then NaN, so no `≤ tol` test passes.

export const PARITY_ATOL = 1e-4;

export interface ParityFigure {
  /** max |a − b| over all elements; NaN when flagged. */
  maxAbs: number;
  /** maxAbs / max |a|; NaN when flagged. */
  maxRel: number;
  /** Elements compared. */
  count: number;
  /** Index of the largest difference (−1 when none or flagged). */
  worstIndex: number;
  /** Pairs where a or b is NaN/±Inf. */
  nonFinite: number;
  /** First such pair (−1 when none). */
  firstNonFinite: number;
  /** True when a non-finite value was found. */
  flagged: boolean;
}

export function parityFigure(a: Float32Array, b: Float32Array): ParityFigure {
  if (a.length !== b.length) throw new RangeError(`parity: ${a.length} values against ${b.length}`);
  let maxAbs = 0;
  let maxA = 0;
  let worstIndex = -1;
  let nonFinite = 0;
  let firstNonFinite = -1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x - x !== 0 || y - y !== 0) {
      if (nonFinite++ === 0) firstNonFinite = i;
      continue;
    }
    const d = Math.abs(x - y);
    if (d > maxAbs) {
      maxAbs = d;
      worstIndex = i;
    }
    maxA = Math.max(maxA, Math.abs(x));
  }
  const flagged = nonFinite > 0;
  if (flagged) return { maxAbs: NaN, maxRel: NaN, count: a.length, worstIndex: -1, nonFinite, firstNonFinite, flagged };
  const maxRel = maxAbs === 0 ? 0 : maxAbs / maxA; // maxA = 0 with maxAbs > 0 gives Infinity
  return { maxAbs, maxRel, count: a.length, worstIndex, nonFinite, firstNonFinite, flagged };
}

/** The pass rule: finite everywhere and maxAbs ≤ atol. */
export function parityPasses(f: ParityFigure, atol = PARITY_ATOL): boolean {
  return !f.flagged && f.maxAbs <= atol;
}
