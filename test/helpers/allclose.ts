// One closeness check for every numeric test: |a − e| ≤ atol + rtol·|e|, reporting the worst index,
// the two values there, the tolerance, and the first few mismatches.
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
}

type Numeric = ArrayLike<number>;

export interface CloseReport {
  ok: boolean;
  worstIndex: number;
  worstExcess: number;
  maxAbsDiff: number;
  message: string;
}

export function compareAllClose(actual: Numeric, expected: Numeric, tol: Tolerance, what = 'tensor'): CloseReport {
  if (actual.length !== expected.length) {
    return { ok: false, worstIndex: -1, worstExcess: Infinity, maxAbsDiff: Infinity,
      message: `${what}: length ${actual.length} ≠ expected length ${expected.length}` };
  }
  let worstIndex = -1;
  let worstExcess = -Infinity;
  let maxAbsDiff = 0;
  const bad: string[] = [];
  let badCount = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    const allowed = tol.atol + tol.rtol * Math.abs(e);
    // NaN never passes: diff is NaN and the comparison below is false.
    const pass = diff <= allowed || (Number.isNaN(a) && Number.isNaN(e)) || a === e;
    const excess = Number.isNaN(diff) ? Infinity : diff - allowed;
    if (!pass) {
      badCount++;
      if (bad.length < 5) bad.push(`[${i}] ${a} vs ${e}`);
    }
    if (excess > worstExcess) {
      worstExcess = excess;
      worstIndex = i;
    }
    if (diff > maxAbsDiff || Number.isNaN(diff)) maxAbsDiff = diff;
  }
  const ok = badCount === 0;
  const message = ok
    ? `${what}: ok (max |diff| ${maxAbsDiff.toExponential(2)})`
    : `${what}: ${badCount}/${actual.length} elements outside atol=${tol.atol} rtol=${tol.rtol}; ` +
      `worst at index ${worstIndex}: actual ${actual[worstIndex]} expected ${expected[worstIndex]} ` +
      `(|diff| ${Math.abs(actual[worstIndex] - expected[worstIndex]).toExponential(3)}, ` +
      `allowed ${(tol.atol + tol.rtol * Math.abs(expected[worstIndex])).toExponential(3)}); ` +
      `max |diff| ${maxAbsDiff.toExponential(3)}; first mismatches: ${bad.join(', ')}`;
  return { ok, worstIndex, worstExcess, maxAbsDiff, message };
}

export function expectAllClose(actual: Numeric, expected: Numeric, tol: Tolerance, what = 'tensor'): void {
  const r = compareAllClose(actual, expected, tol, what);
  if (!r.ok) expect.fail(r.message);
  expect(r.ok).toBe(true);
}
