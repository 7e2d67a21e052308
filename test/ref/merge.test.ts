import { describe, it } from 'vitest';
import { doraRowNorm, doraScaleForward } from '../../src/ref/dora';
import { type LoraShape, loraForward } from '../../src/ref/lora';
import { matmul } from '../../src/ref/matmul';
import { doraMerge, loraMerge } from '../../src/ref/merge';
import { expectAllClose } from '../helpers/allclose';
import { uniformF64 } from '../helpers/random';

// Merges have no backward; these are the invariants of STYLE.md §7 on the Float64 references, where
// only Float64 rounding separates the two sides.
const EXACT64 = { atol: 1e-12, rtol: 1e-12 };

function setup(s: LoraShape, seed: number) {
  return {
    x: uniformF64(s.N * s.IN, seed), w: uniformF64(s.IN * s.OUT, seed + 1), bias: uniformF64(s.OUT, seed + 2),
    loraA: uniformF64(s.R * s.IN, seed + 3), loraB: uniformF64(s.OUT * s.R, seed + 4), m: uniformF64(s.OUT, seed + 5, 0.5, 2),
  };
}

/** Plain layer y = x·W(ᵀ) + b on a (merged) weight, via the matmul reference. */
function plain(s: LoraShape, x: Float64Array, w: Float64Array, bias: Float64Array): Float64Array {
  const y = new Float64Array(s.N * s.OUT);
  matmul(y, x, w, bias, { M: s.N, N: s.OUT, K: s.IN, transB: !s.conv1d, hasBias: true });
  return y;
}

describe('merge references: invariants (Float64)', () => {
  for (const conv1d of [false, true]) {
    const s: LoraShape = { N: 3, IN: 5, OUT: 4, R: 2, scale: 1.5, conv1d };
    const name = conv1d ? 'Conv1D (in, out)' : 'Linear (out, in)';

    it(`loraMerge equals W + c·B·A built by matmul (${name})`, () => {
      const t = setup(s, 1);
      const merged = Float64Array.from(t.w);
      loraMerge(merged, t.loraA, t.loraB, { ...s, c: -0.7 });
      const dense = Float64Array.from(t.w);
      // Linear: W (OUT, IN) += c·B·A; Conv1D: W (IN, OUT) += c·Aᵀ·Bᵀ.
      if (conv1d) matmul(dense, t.loraA, t.loraB, null, { M: s.IN, N: s.OUT, K: s.R, transA: true, transB: true, alpha: -0.7, beta: 1 });
      else matmul(dense, t.loraB, t.loraA, null, { M: s.OUT, N: s.IN, K: s.R, alpha: -0.7, beta: 1 });
      expectAllClose(merged, dense, EXACT64, 'merge');
    });

    it(`LoRA: unmerge(merge(W)) = W and the merged plain forward equals the adapted forward (${name})`, () => {
      const t = setup(s, 2);
      const merged = Float64Array.from(t.w);
      loraMerge(merged, t.loraA, t.loraB, { ...s, c: s.scale });
      const y = new Float64Array(s.N * s.OUT), h = new Float64Array(s.N * s.R);
      loraForward(y, h, t.x, t.w, t.bias, t.loraA, t.loraB, s);
      expectAllClose(plain(s, t.x, merged, t.bias), y, EXACT64, 'merged forward');
      loraMerge(merged, t.loraA, t.loraB, { ...s, c: -s.scale });
      expectAllClose(merged, t.w, EXACT64, 'unmerge(merge(W))');
    });

    it(`DoRA: unmerge(merge(W)) = W and the merged plain forward equals the DoRA forward (${name})`, () => {
      const t = setup(s, 3);
      const norm = new Float64Array(s.OUT);
      doraRowNorm(norm, t.w, t.loraA, t.loraB, s);
      const merged = Float64Array.from(t.w);
      doraMerge(merged, t.loraA, t.loraB, t.m, norm, s);
      const z = new Float64Array(s.N * s.OUT), h = new Float64Array(s.N * s.R), y = new Float64Array(z.length);
      loraForward(z, h, t.x, t.w, null, t.loraA, t.loraB, s);
      doraScaleForward(y, z, t.m, norm, t.bias, s);
      expectAllClose(plain(s, t.x, merged, t.bias), y, EXACT64, 'merged forward');
      // The merged rows have norm m: ‖(m/n)·V[o,:]‖ = m.
      const mergedNorm = new Float64Array(s.OUT);
      doraRowNorm(mergedNorm, merged, t.loraA, new Float64Array(t.loraB.length), s);
      expectAllClose(mergedNorm, t.m, EXACT64, 'row norms of the merged W');
      doraMerge(merged, t.loraA, t.loraB, t.m, norm, s, true);
      expectAllClose(merged, t.w, EXACT64, 'unmerge(merge(W))');
    });
  }
});
