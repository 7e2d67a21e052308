// The parity figure of docs/formats.md#parity: max-abs and relative difference; NaN/Inf reported and flagged.
import { describe, expect, it } from 'vitest';
import { parityFigure, parityPasses } from '../../../src/io/export';

describe('parityFigure', () => {
  it('is zero for identical logits', () => {
    const a = Float32Array.of(1, -2, 3);
    expect(parityFigure(a, a.slice())).toEqual({ maxAbs: 0, maxRel: 0, count: 3, worstIndex: -1, nonFinite: 0, firstNonFinite: -1, flagged: false });
  });

  it('reports the largest difference, relative to max |a|', () => {
    const a = Float32Array.of(1, -4, 2, 0.5);
    const b = Float32Array.of(1, -4.5, 2.25, 0.5);
    const f = parityFigure(a, b);
    expect(f).toMatchObject({ maxAbs: 0.5, maxRel: 0.125, count: 4, worstIndex: 1, flagged: false });
    expect(parityPasses(f)).toBe(false);
    expect(parityPasses(parityFigure(a, a.map((v) => v + 5e-5)))).toBe(true);
  });

  it('flags NaN / Inf on either side; the figures become NaN so no tolerance test passes', () => {
    const f = parityFigure(Float32Array.of(1, 2, Infinity), Float32Array.of(1, NaN, Infinity));
    expect(f).toMatchObject({ nonFinite: 2, firstNonFinite: 1, flagged: true, count: 3 });
    expect(f.maxAbs).toBeNaN();
    expect(f.maxRel).toBeNaN();
    expect(parityPasses(f, 1e9)).toBe(false);
  });

  it('refuses different lengths', () => {
    expect(() => parityFigure(new Float32Array(2), new Float32Array(3))).toThrow(RangeError);
  });
});
