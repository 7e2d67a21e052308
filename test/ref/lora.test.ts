import { describe, expect, it } from 'vitest';
import { type LoraShape, loraBackward, loraForward } from '../../src/ref/lora';
import { matmul } from '../../src/ref/matmul';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

function setup(s: LoraShape, seed: number) {
  return {
    x: uniformF64(s.N * s.IN, seed),
    w: uniformF64(s.IN * s.OUT, seed + 1),
    bias: uniformF64(s.OUT, seed + 2),
    loraA: uniformF64(s.R * s.IN, seed + 3),
    loraB: uniformF64(s.OUT * s.R, seed + 4), // non-zero, so dA and the A path of dx are exercised
    dy: uniformF64(s.N * s.OUT, seed + 5),
  };
}

describe('lora reference backward vs finite differences (Float64)', () => {
  for (const conv1d of [false, true]) {
    const s: LoraShape = { N: 3, IN: 5, OUT: 4, R: 2, scale: 1.5, conv1d };
    it(`dA, dB, dx (${conv1d ? 'Conv1D (in, out)' : 'Linear (out, in)'})`, () => {
      const t = setup(s, 10);
      const h = new Float64Array(s.N * s.R), y = new Float64Array(s.N * s.OUT);
      loraForward(y, h, t.x, t.w, t.bias, t.loraA, t.loraB, s);
      const dA = new Float64Array(t.loraA.length), dB = new Float64Array(t.loraB.length);
      const dx = new Float64Array(t.x.length), dh = new Float64Array(h.length);
      loraBackward(dA, dB, dx, dh, t.dy, t.x, t.w, t.loraA, t.loraB, h, s);
      const loss = (x: Float64Array, a: Float64Array, b: Float64Array) => {
        const yy = new Float64Array(s.N * s.OUT), hh = new Float64Array(s.N * s.R);
        loraForward(yy, hh, x, t.w, t.bias, a, b, s);
        return dot(yy, t.dy);
      };
      expectGradMatches(dA, (a) => loss(t.x, a, t.loraB), t.loraA, 'dA');
      expectGradMatches(dB, (b) => loss(t.x, t.loraA, b), t.loraB, 'dB');
      expectGradMatches(dx, (x) => loss(x, t.loraA, t.loraB), t.x, 'dx');

      // Parameter grads accumulate; dx accumulates only when asked (residual stream).
      const dx2 = Float64Array.from(dx);
      loraBackward(dA, dB, dx2, dh, t.dy, t.x, t.w, t.loraA, t.loraB, h, s, true);
      const half = (g: Float64Array) => g.map((v) => v / 2);
      const dA1 = new Float64Array(dA.length), dB1 = new Float64Array(dB.length);
      loraBackward(dA1, dB1, new Float64Array(dx.length), dh, t.dy, t.x, t.w, t.loraA, t.loraB, h, s);
      expectAllClose(half(dA), dA1, { atol: 1e-12, rtol: 1e-12 }, 'dA accumulates');
      expectAllClose(half(dB), dB1, { atol: 1e-12, rtol: 1e-12 }, 'dB accumulates');
      expectAllClose(half(dx2), dx, { atol: 1e-12, rtol: 1e-12 }, 'dx accumulates with accumulateDx');
    });

    it(`B = 0 gives the base layer x·W(ᵀ) + b (${conv1d ? 'Conv1D' : 'Linear'})`, () => {
      const t = setup(s, 20);
      const y = new Float64Array(s.N * s.OUT), h = new Float64Array(s.N * s.R);
      loraForward(y, h, t.x, t.w, t.bias, t.loraA, new Float64Array(t.loraB.length), s);
      const base = new Float64Array(y.length);
      matmul(base, t.x, t.w, t.bias, { M: s.N, N: s.OUT, K: s.IN, transB: !conv1d, hasBias: true });
      expectAllClose(y, base, { atol: 1e-12, rtol: 1e-12 }, 'B = 0');
      expect(y.some((v) => v !== 0)).toBe(true);
    });
  }
});
