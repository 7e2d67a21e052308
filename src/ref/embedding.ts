// embedding reference — GPT-2 token + position embedding, the spec of embedding_forward/backward.wgsl.
// ids (B, T) u32; wte (V, C); wpe (maxT, C); out/dout (B, T, C). Ids ≥ V are clamped to V − 1, as in
// the shaders (the host rejects them before upload; see validateIds).
import type { Arr } from './types';

export interface EmbeddingShape {
  B: number;
  T: number;
  C: number;
  V: number;
  /** Rows of wpe (GPT-2 n_positions); T ≤ maxT. */
  maxT: number;
}

export function embeddingForward(out: Arr, ids: Uint32Array, wte: Arr, wpe: Arr, s: EmbeddingShape): void {
  const { B, T, C, V } = s;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      const v = Math.min(ids[bt], V - 1);
      for (let c = 0; c < C; c++) out[bt * C + c] = wte[v * C + c] + wpe[t * C + c];
    }
  }
}

/** Accumulates (`+=`) into dwte and dwpe: they are parameter gradients. */
export function embeddingBackward(dwte: Arr, dwpe: Arr, dout: Arr, ids: Uint32Array, s: EmbeddingShape): void {
  const { B, T, C, V } = s;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      const v = Math.min(ids[bt], V - 1);
      for (let c = 0; c < C; c++) {
        dwte[v * C + c] += dout[bt * C + c];
        dwpe[t * C + c] += dout[bt * C + c];
      }
    }
  }
}
