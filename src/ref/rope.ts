// rope references — the spec of shaders/rope.wgsl: rotary position embedding in HF's rotate-half
// layout (LlamaRotaryEmbedding + apply_rotary_pos_emb), in place on a (B, T, NH, HS) tensor
// (q with NH heads, or k with NKV heads):
//   x' = x·cos + rotate_half(x)·sin,  rotate_half(x) = [−x[HS/2:], x[:HS/2]]
// i.e. for each pair (j, j + HS/2), j < HS/2, at position p = pos0 + t:
//   x'[j]        = x[j]·cos[p, j] − x[j + HS/2]·sin[p, j]
//   x'[j + HS/2] = x[j + HS/2]·cos[p, j] + x[j]·sin[p, j]
// The backward is the transpose rotation (angle −θ), also in place on the gradient:
//   dx[j] = dy[j]·cos + dy[j + HS/2]·sin,  dx[j + HS/2] = dy[j + HS/2]·cos − dy[j]·sin
// cos, sin: (P, HS/2) tables from ropeTable (src/ref/rope_freq.ts), P ≥ pos0 + T.
import type { Arr } from './types';

export interface RopeShape {
  B: number;
  T: number;
  /** Heads of this tensor: NH for q, NKV for k. */
  NH: number;
  /** Head size (even). */
  HS: number;
  /** Position of token t = 0: 0 for a full sequence, the cache length for a KV-cached decode step. */
  pos0: number;
  /** Rows of the cos/sin tables (positions they cover). */
  P: number;
}

function rotate(x: Arr, cos: Arr, sin: Arr, s: RopeShape, sign: 1 | -1): void {
  const { B, T, NH, HS, pos0 } = s;
  const half = HS / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const p = (pos0 + t) * half;
      for (let h = 0; h < NH; h++) {
        const o = ((b * T + t) * NH + h) * HS;
        for (let j = 0; j < half; j++) {
          const c = cos[p + j], sn = sign * sin[p + j];
          const x1 = x[o + j], x2 = x[o + j + half];
          x[o + j] = x1 * c - x2 * sn;
          x[o + j + half] = x2 * c + x1 * sn;
        }
      }
    }
  }
}

/** x ← rope(x) in place (=): the forward rotation by +angle. */
export function ropeForward(x: Arr, cos: Arr, sin: Arr, s: RopeShape): void {
  rotate(x, cos, sin, s, 1);
}

/** dx ← Rᵀ·dy in place (=): the gradient through ropeForward, a rotation by −angle. Needs no cache. */
export function ropeBackward(dx: Arr, cos: Arr, sin: Arr, s: RopeShape): void {
  rotate(dx, cos, sin, s, -1);
}
