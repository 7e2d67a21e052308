// One closeness check for every numeric test: |a − e| ≤ atol + rtol·|e|, reporting the worst index,
// the two values there, the tolerance, and the first few mismatches.
//
// A non-finite value never passes, on either side: a kernel and its reference that both produce NaN (or
// both overflow to ±Inf) are both broken, not in agreement. A test that expects NaN or ±Inf says so
// explicitly (`expectNonFinite` below, or `Number.isNaN`).
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
    // Finite on both sides, then within tolerance. NaN − NaN and Inf − Inf are NaN, so `diff <= allowed`
    // alone refuses them too, but an infinite tolerance must not let them through either.
    const finite = Number.isFinite(a) && Number.isFinite(e);
    const pass = finite && diff <= allowed;
    const excess = finite ? diff - allowed : Infinity;
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

/**
 * The places a test expects to be non-finite, said explicitly: `want[i]` is 'NaN', '+Inf', '-Inf' or
 * null (finite: left to `expectAllClose` on the finite entries).
 */
export function expectNonFinite(actual: Numeric, want: ReadonlyArray<'NaN' | '+Inf' | '-Inf' | null>, what = 'tensor'): void {
  expect(actual.length, `${what}: length`).toBe(want.length);
  const label = (x: number) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : null);
  const wrong: string[] = [];
  for (let i = 0; i < want.length; i++) if (label(actual[i]) !== want[i]) wrong.push(`[${i}] ${actual[i]} (want ${want[i] ?? 'finite'})`);
  if (wrong.length) expect.fail(`${what}: ${wrong.length} elements differ in finiteness: ${wrong.slice(0, 5).join(', ')}`);
}
