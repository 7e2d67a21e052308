import { describe, expect, it } from 'vitest';
import { type PatchShape, patchBackward, patchCount, patchForward, patchIm2col } from '../../src/ref/patch';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';
import { expectAllClose } from '../helpers/allclose';

const SHAPES: PatchShape[] = [
  { B: 2, Cin: 3, H: 4, W: 6, p: 2, C: 3 },
  { B: 1, Cin: 1, H: 3, W: 3, p: 3, C: 2 },
];

describe('patch reference backward vs finite differences (Float64)', () => {
  for (const s of SHAPES) {
    it(`B=${s.B} Cin=${s.Cin} ${s.H}×${s.W} p=${s.p} C=${s.C}`, () => {
      const K = s.Cin * s.p * s.p, rows = s.B * patchCount(s);
      const images = uniformF64(s.B * s.Cin * s.H * s.W, 1);
      const weight = uniformF64(s.C * K, 2);
      const bias = uniformF64(s.C, 3);
      const dout = uniformF64(rows * s.C, 4);
      const dweight = new Float64Array(weight.length), dbias = new Float64Array(s.C);
      patchBackward(dweight, dbias, dout, images, s);
      const loss = (w: Float64Array, b: Float64Array) => {
        const out = new Float64Array(dout.length);
        patchForward(out, images, w, b, s);
        return dot(out, dout);
      };
      expectGradMatches(dweight, (x) => loss(x, bias), weight, 'dweight');
      expectGradMatches(dbias, (x) => loss(weight, x), bias, 'dbias');
    });
  }

  it('direct convolution equals im2col · weightᵀ + bias (the two refs agree)', () => {
    const s = SHAPES[0];
    const K = s.Cin * s.p * s.p, rows = s.B * patchCount(s);
    const images = uniformF64(s.B * s.Cin * s.H * s.W, 5), weight = uniformF64(s.C * K, 6), bias = uniformF64(s.C, 7);
    const direct = new Float64Array(rows * s.C);
    patchForward(direct, images, weight, bias, s);
    const patches = new Float64Array(rows * K);
    patchIm2col(patches, images, s);
    const viaIm2col = new Float64Array(rows * s.C);
    for (let r = 0; r < rows; r++) {
      for (let co = 0; co < s.C; co++) viaIm2col[r * s.C + co] = bias[co] + dot(patches.subarray(r * K, (r + 1) * K), weight.subarray(co * K, (co + 1) * K));
    }
    expectAllClose(viaIm2col, direct, { atol: 1e-12, rtol: 1e-12 }, 'im2col vs direct (Float64)');
    // Patch (py=0, px=1) of image 0, channel 0 starts at pixel (0, p).
    expect(patches[1 * K]).toBe(images[s.p]);
  });
});
