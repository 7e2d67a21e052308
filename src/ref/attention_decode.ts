// attention_decode reference — the spec of shaders/attention_decode.wgsl: the single new query of a
// generation step (B = 1) attending over the KV cache, as one row of attentionForward (ref/attention.ts)
// computed from cached keys and values instead of the whole qkv.
//
// qkv (3C): the step's c_attn output; only Q, columns [0, C), is read; head h = [h·HS, (h+1)·HS).
// kcache, vcache (maxT, C): rows s < T valid (the new token's row included). att (NH, T) scratch,
// out (C) with channel c = h·HS + d.
import type { Arr } from './types';

export interface AttentionDecodeShape {
  /** Cached positions, the new one included (1 ≤ T ≤ maxT). */
  T: number;
  /** Channels; C = NH · HS. */
  C: number;
  NH: number;
}

/** att[h,:] = softmax(q_h · k_s / √HS over s < T);  out[h·HS + d] = Σ_s att[h,s] · v[s, h·HS + d]. */
export function attentionDecode(out: Arr, att: Arr, qkv: Arr, kcache: Arr, vcache: Arr, s: AttentionDecodeShape): void {
  const { T, C, NH } = s;
  const HS = C / NH;
  const scale = 1 / Math.sqrt(HS);
  for (let h = 0; h < NH; h++) {
    const col = h * HS;
    let max = -Infinity;
    for (let k = 0; k < T; k++) {
      let dot = 0;
      for (let d = 0; d < HS; d++) dot += qkv[col + d] * kcache[k * C + col + d];
      att[h * T + k] = dot * scale;
      max = Math.max(max, dot * scale);
    }
    let sum = 0;
    for (let k = 0; k < T; k++) {
      const e = Math.exp(att[h * T + k] - max);
      att[h * T + k] = e;
      sum += e;
    }
    for (let k = 0; k < T; k++) att[h * T + k] /= sum;
    for (let d = 0; d < HS; d++) {
      let acc = 0;
      for (let k = 0; k < T; k++) acc += att[h * T + k] * vcache[k * C + col + d];
      out[col + d] = acc;
    }
  }
}
