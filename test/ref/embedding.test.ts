import { describe, it } from 'vitest';
import { type EmbeddingShape, embeddingBackward, embeddingForward } from '../../src/ref/embedding';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { randomInts, uniformF64 } from '../helpers/random';

describe('embedding reference backward vs finite differences (Float64)', () => {
  const shapes: EmbeddingShape[] = [
    { B: 2, T: 3, C: 5, V: 11, maxT: 4 },
    { B: 3, T: 1, C: 4, V: 6, maxT: 2 },
  ];
  for (const s of shapes) {
    it(`B=${s.B} T=${s.T} C=${s.C} V=${s.V} maxT=${s.maxT}`, () => {
      const ids = randomInts(s.B * s.T, 1, s.V);
      ids[0] = ids[ids.length - 1]; // a repeated token: its gradient rows must add up
      const wte = uniformF64(s.V * s.C, 2);
      const wpe = uniformF64(s.maxT * s.C, 3);
      const dout = uniformF64(s.B * s.T * s.C, 4);
      const dwte = new Float64Array(wte.length), dwpe = new Float64Array(wpe.length);
      embeddingBackward(dwte, dwpe, dout, ids, s);
      const loss = (te: Float64Array, pe: Float64Array) => {
        const out = new Float64Array(dout.length);
        embeddingForward(out, ids, te, pe, s);
        return dot(out, dout);
      };
      expectGradMatches(dwte, (x) => loss(x, wpe), wte, 'dwte');
      expectGradMatches(dwpe, (x) => loss(wte, x), wpe, 'dwpe');
    });
  }
});
