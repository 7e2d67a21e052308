import { describe, expect, it } from 'vitest';
import { type RopeShape, ropeBackward, ropeForward } from '../../src/ref/rope';
import { invFreq, ropeTable } from '../../src/ref/rope_freq';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

function tables(HS: number, P: number) {
  const { cos, sin } = ropeTable(invFreq({ rope_theta: 10000 }, HS), P);
  return { cos: Float64Array.from(cos), sin: Float64Array.from(sin) };
}

describe('rope reference', () => {
  it('rotate-half by hand: HS = 4, position 1, inv_freq [1, 0.01]', () => {
    const { cos, sin } = tables(4, 2);
    const x = Float64Array.from([1, 2, 3, 4]);
    ropeForward(x, cos, sin, { B: 1, T: 1, NH: 1, HS: 4, pos0: 1, P: 2 });
    // The tables are f32: cos/sin of the f32 angles, rounded to f32.
    const [c0, s0, c1, s1] = [Math.cos(1), Math.sin(1), Math.cos(Math.fround(0.01)), Math.sin(Math.fround(0.01))].map(Math.fround);
    // x·cos + [−x3, −x4, x1, x2]·sin
    expectAllClose(x, [1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 3 * c0 + 1 * s0, 4 * c1 + 2 * s1], { atol: 1e-15, rtol: 0 }, 'x\'');
  });

  const cases: RopeShape[] = [
    { B: 1, T: 1, NH: 1, HS: 2, pos0: 0, P: 1 },
    { B: 2, T: 3, NH: 3, HS: 8, pos0: 0, P: 3 },
    { B: 1, T: 2, NH: 2, HS: 6, pos0: 5, P: 9 }, // decode-style offset
  ];
  for (const s of cases) {
    it(`backward vs finite differences (Float64): B=${s.B} T=${s.T} NH=${s.NH} HS=${s.HS} pos0=${s.pos0}`, () => {
      const { cos, sin } = tables(s.HS, s.P);
      const n = s.B * s.T * s.NH * s.HS;
      const x = uniformF64(n, 11), dy = uniformF64(n, 12);
      const dx = Float64Array.from(dy);
      ropeBackward(dx, cos, sin, s);
      const loss = (v: Float64Array) => {
        const y = Float64Array.from(v);
        ropeForward(y, cos, sin, s);
        return dot(y, dy);
      };
      expectGradMatches(dx, loss, x, 'dx');
    });
  }

  it('position offset: rows rotated with pos0 = 4 equal rows 4… of a whole-sequence rotation', () => {
    const s: RopeShape = { B: 1, T: 7, NH: 2, HS: 8, pos0: 0, P: 7 };
    const { cos, sin } = tables(8, 7);
    const x = uniformF64(7 * 16, 13);
    const full = Float64Array.from(x);
    ropeForward(full, cos, sin, s);
    const tail = x.slice(4 * 16);
    ropeForward(tail, cos, sin, { ...s, T: 3, pos0: 4 });
    expect(Array.from(tail)).toEqual(Array.from(full.slice(4 * 16)));
  });
});
