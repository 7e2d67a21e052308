import { describe, expect, it } from 'vitest';
import { doraRowNorm, doraScaleBackward, doraScaleForward } from '../../src/ref/dora';
import { type LoraShape, loraBackward, loraForward } from '../../src/ref/lora';
import { matmul } from '../../src/ref/matmul';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

const EXACT64 = { atol: 1e-12, rtol: 1e-12 }; // two Float64 evaluations of the same sum

function setup(s: LoraShape, seed: number) {
  return {
    x: uniformF64(s.N * s.IN, seed), w: uniformF64(s.IN * s.OUT, seed + 1), bias: uniformF64(s.OUT, seed + 2),
    loraA: uniformF64(s.R * s.IN, seed + 3), loraB: uniformF64(s.OUT * s.R, seed + 4),
    m: uniformF64(s.OUT, seed + 5, 0.5, 2), dy: uniformF64(s.N * s.OUT, seed + 6),
  };
}

/** y = (m / norm) ⊙ (x·Wᵀ + s·x·Aᵀ·Bᵀ) + bias with `norm` held fixed: the spec's FD objective (DoRA §4.3). */
function doraY(s: LoraShape, x: Float64Array, w: Float64Array, bias: Float64Array, a: Float64Array, b: Float64Array, m: Float64Array, norm: Float64Array) {
  const z = new Float64Array(s.N * s.OUT), h = new Float64Array(s.N * s.R), y = new Float64Array(z.length);
  loraForward(z, h, x, w, null, a, b, s);
  doraScaleForward(y, z, m, norm, bias, s);
  return { y, z, h };
}

/** Row norms of V = W + s·B·A built densely in [out, in] layout (Conv1D W transposed explicitly). */
function denseRowNorms(s: LoraShape, w: Float64Array, a: Float64Array, b: Float64Array): Float64Array {
  const ba = new Float64Array(s.OUT * s.IN);
  matmul(ba, b, a, null, { M: s.OUT, N: s.IN, K: s.R });
  return Float64Array.from({ length: s.OUT }, (_, o) => {
    let sum = 0;
    for (let i = 0; i < s.IN; i++) sum += ((s.conv1d ? w[i * s.OUT + o] : w[o * s.IN + i]) + s.scale * ba[o * s.IN + i]) ** 2;
    return Math.sqrt(sum);
  });
}

describe('dora reference vs finite differences (Float64, norm detached)', () => {
  it('doraScaleBackward: dz and dm', () => {
    const s = { N: 4, OUT: 3 };
    const z = uniformF64(12, 1), m = uniformF64(3, 2, 0.5, 2), norm = uniformF64(3, 3, 0.5, 2);
    const bias = uniformF64(3, 4), dy = uniformF64(12, 5);
    const dz = new Float64Array(12), dm = new Float64Array(3);
    doraScaleBackward(dz, dm, dy, z, m, norm, s);
    const loss = (zz: Float64Array, mm: Float64Array) => {
      const y = new Float64Array(12);
      doraScaleForward(y, zz, mm, norm, bias, s);
      return dot(y, dy);
    };
    expectGradMatches(dz, (x) => loss(x, m), z, 'dz');
    expectGradMatches(dm, (x) => loss(z, x), m, 'dm');
  });

  for (const conv1d of [false, true]) {
    const s: LoraShape = { N: 3, IN: 5, OUT: 4, R: 2, scale: 1.5, conv1d };
    const name = conv1d ? 'Conv1D (in, out)' : 'Linear (out, in)';
    it(`full DoRA layer: dA, dB, dm, dx (${name})`, () => {
      const t = setup(s, 10);
      const norm = new Float64Array(s.OUT);
      doraRowNorm(norm, t.w, t.loraA, t.loraB, s); // at the current A, B, then frozen for the FD
      const { z, h } = doraY(s, t.x, t.w, t.bias, t.loraA, t.loraB, t.m, norm);
      const dz = new Float64Array(z.length), dm = new Float64Array(s.OUT);
      doraScaleBackward(dz, dm, t.dy, z, t.m, norm, s);
      const dA = new Float64Array(t.loraA.length), dB = new Float64Array(t.loraB.length);
      const dx = new Float64Array(t.x.length), dh = new Float64Array(h.length);
      loraBackward(dA, dB, dx, dh, dz, t.x, t.w, t.loraA, t.loraB, h, s);
      const loss = (x: Float64Array, a: Float64Array, b: Float64Array, m: Float64Array) =>
        dot(doraY(s, x, t.w, t.bias, a, b, m, norm).y, t.dy);
      expectGradMatches(dA, (v) => loss(t.x, v, t.loraB, t.m), t.loraA, 'dA');
      expectGradMatches(dB, (v) => loss(t.x, t.loraA, v, t.m), t.loraB, 'dB');
      expectGradMatches(dm, (v) => loss(t.x, t.loraA, t.loraB, v), t.m, 'dm');
      expectGradMatches(dx, (v) => loss(v, t.loraA, t.loraB, t.m), t.x, 'dx');
    });

    it(`row norms of V = W + s·B·A in [out, in] terms (${name})`, () => {
      const t = setup(s, 20);
      const norm = new Float64Array(s.OUT);
      doraRowNorm(norm, t.w, t.loraA, t.loraB, s);
      expectAllClose(norm, denseRowNorms(s, t.w, t.loraA, t.loraB), EXACT64, 'row norms');
    });

    it(`at init (B = 0, m = ‖W[o,:]‖) DoRA equals the base layer (${name})`, () => {
      const t = setup(s, 30);
      const zeroB = new Float64Array(t.loraB.length), norm = new Float64Array(s.OUT);
      doraRowNorm(norm, t.w, t.loraA, zeroB, s);
      const { y } = doraY(s, t.x, t.w, t.bias, t.loraA, zeroB, Float64Array.from(norm), norm);
      const base = new Float64Array(y.length);
      matmul(base, t.x, t.w, t.bias, { M: s.N, N: s.OUT, K: s.IN, transB: !conv1d, hasBias: true });
      expectAllClose(y, base, EXACT64, 'DoRA at init');
      expect(norm.every((v) => v > 0)).toBe(true);
    });
  }
});
