import { describe, expect, it } from 'vitest';
import { type AttentionShape, attentionBackward, attentionForward } from '../../src/ref/attention';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

function forward(qkv: Float64Array, s: AttentionShape) {
  const out = new Float64Array(s.B * s.T * s.C);
  const att = new Float64Array(s.B * s.NH * s.T * s.T);
  attentionForward(out, att, qkv, s);
  return { out, att };
}

describe('attention reference', () => {
  const shapes: [number, number, number, number][] = [[1, 5, 2, 3], [2, 3, 1, 2], [1, 1, 2, 2]]; // B, T, NH, HS
  for (const [B, T, NH, HS] of shapes) {
    for (const causal of [true, false]) {
      it(`backward vs finite differences (Float64), B=${B} T=${T} NH=${NH} HS=${HS} ${causal ? 'causal' : 'full'}`, () => {
        const s = { B, T, C: NH * HS, NH, causal };
        const qkv = uniformF64(B * T * 3 * s.C, 1, -1.5, 1.5);
        const dout = uniformF64(B * T * s.C, 2);
        const { att } = forward(qkv, s);
        const dqkv = new Float64Array(qkv.length);
        attentionBackward(dqkv, new Float64Array(att.length), dout, qkv, att, s);
        expectGradMatches(dqkv, (x) => dot(forward(x, s).out, dout), qkv, 'dqkv');
      });
    }
  }

  it('causal rows sum to 1 with zeros above the diagonal; T = 1 returns V', () => {
    const s = { B: 1, T: 4, C: 6, NH: 2, causal: true };
    const { att } = forward(uniformF64(4 * 18, 3, -2, 2), s);
    for (let row = 0; row < s.NH * s.T; row++) {
      const t = row % s.T;
      const r = att.subarray(row * s.T, (row + 1) * s.T);
      expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (let k = t + 1; k < s.T; k++) expect(r[k]).toBe(0);
    }
    const qkv1 = uniformF64(18, 4);
    expect(Array.from(forward(qkv1, { ...s, T: 1 }).out)).toEqual(Array.from(qkv1.subarray(12, 18)));
  });
});
