import { describe, it } from 'vitest';
import { reduceSumCols, reduceSumRows } from '../../src/ref/reduce';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

// The reductions are themselves gradients; finite differences confirm they are the right ones.
describe('reduce references are the gradients they stand for (Float64 finite differences)', () => {
  const rows = 5, cols = 7;
  const dy = uniformF64(rows * cols, 1);

  it('sum over rows = bias gradient of y[r, c] = x[r, c] + bias[c]', () => {
    const x = uniformF64(rows * cols, 2), bias = uniformF64(cols, 3);
    const db = new Float64Array(cols);
    reduceSumRows(db, dy, { rows, cols });
    const loss = (bb: Float64Array) => dot(x.map((v, i) => v + bb[i % cols]), dy);
    expectGradMatches(db, loss, bias, 'db');
  });

  it('sum over columns = gradient of y[r, c] = g[r]·x[r, c] w.r.t. the row scale g', () => {
    const g = uniformF64(rows, 4);
    const dg = new Float64Array(rows);
    // dL/dg[r] = Σ_c dy[r, c]·x[r, c]: the column sum of dy ⊙ x.
    const x = uniformF64(rows * cols, 5);
    reduceSumCols(dg, dy.map((v, i) => v * x[i]), { rows, cols });
    const loss = (gg: Float64Array) => dot(x.map((v, i) => gg[Math.floor(i / cols)] * v), dy);
    expectGradMatches(dg, loss, g, 'dg');
  });

  it('accumulate adds onto the existing output', () => {
    const x = uniformF64(rows * cols, 6);
    for (const [fn, len] of [[reduceSumRows, cols], [reduceSumCols, rows]] as const) {
      const fresh = new Float64Array(len);
      fn(fresh, x, { rows, cols });
      const acc = uniformF64(len, 7);
      const want = acc.map((v, i) => v + fresh[i]);
      fn(acc, x, { rows, cols, accumulate: true });
      expectAllClose(acc, want, { atol: 0, rtol: 0 }, `${fn.name} +=`);
    }
  });
});
