// attention_gqa references — the spec of shaders/attention_gqa_*.wgsl: causal grouped-query attention
// as Llama / Mistral / Qwen2 / Qwen3 compute it (HF eager_attention_forward with repeat_kv), with
// NKV ≤ NH key/value heads; query head h reads KV head kvHead(h) = ⌊h / (NH/NKV)⌋ (NKV = NH: plain
// multi-head attention; NKV = 1: multi-query). Scale 1/√HS with HS = head_dim, which need not be
// hidden_size / NH (Qwen3).
//
// q, out, dq, dout: (B, T, NH, HS), the q_proj output / o_proj input layout; k, v, dk, dv: (B, T, NKV, HS).
// att, dpreatt: (B, NH, T, T), probabilities and the gradient of the scaled scores (0 above the diagonal).
import type { Arr } from './types';

export interface GqaShape {
  B: number;
  T: number;
  /** Query heads (num_attention_heads). */
  NH: number;
  /** Key/value heads (num_key_value_heads); NH % NKV == 0. */
  NKV: number;
  /** Head size (head_dim). */
  HS: number;
}

/** The KV head that query head h reads. */
export const kvHead = (h: number, s: { NH: number; NKV: number }): number => Math.floor(h / (s.NH / s.NKV));

/**
 * att[b,h,t,:] = softmax_{s ≤ t}(q[b,t,h]·k[b,s,kvHead(h)] / √HS), 0 for s > t;
 * out[b,t,h,:] = Σ_s att[b,h,t,s] · v[b,s,kvHead(h)]. Writes out and att (=); att is the backward's cache.
 */
export function gqaForward(out: Arr, att: Arr, q: Arr, k: Arr, v: Arr, s: GqaShape): void {
  const { B, T, NH, NKV, HS } = s;
  const scale = 1 / Math.sqrt(HS);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const kh = kvHead(h, s);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + h) * HS;
        const row = ((b * NH + h) * T + t) * T;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          const ko = ((b * T + j) * NKV + kh) * HS;
          let dot = 0;
          for (let d = 0; d < HS; d++) dot += q[qo + d] * k[ko + d];
          att[row + j] = dot * scale;
          max = Math.max(max, dot * scale);
        }
        let sum = 0;
        for (let j = 0; j <= t; j++) {
          att[row + j] = Math.exp(att[row + j] - max);
          sum += att[row + j];
        }
        for (let j = 0; j < T; j++) att[row + j] = j <= t ? att[row + j] / sum : 0;
        for (let d = 0; d < HS; d++) {
          let acc = 0;
          for (let j = 0; j <= t; j++) acc += att[row + j] * v[((b * T + j) * NKV + kh) * HS + d];
          out[qo + d] = acc;
        }
      }
    }
  }
}

/**
 * Gradients of L = Σ dout ⊙ out given the forward's att. Overwrites dq, dk, dv and dpreatt:
 *   datt = dout·vᵀ;  dpreatt = att ⊙ (datt − Σ att ⊙ datt);  dq = dpreatt·k / √HS;
 *   dk = Σ_{h in the group} dpreattᵀ·q / √HS;  dv = Σ_{h in the group} attᵀ·dout
 * (dk and dv sum over the NH/NKV query heads that share a KV head).
 */
export function gqaBackward(
  dq: Arr, dk: Arr, dv: Arr, dpreatt: Arr, dout: Arr, q: Arr, k: Arr, v: Arr, att: Arr, s: GqaShape,
): void {
  const { B, T, NH, NKV, HS } = s;
  const scale = 1 / Math.sqrt(HS);
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const kh = kvHead(h, s);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + h) * HS;
        const row = ((b * NH + h) * T + t) * T;
        let dot = 0;
        for (let j = 0; j <= t; j++) {
          const vo = ((b * T + j) * NKV + kh) * HS;
          let datt = 0;
          for (let d = 0; d < HS; d++) {
            datt += dout[qo + d] * v[vo + d];
            dv[vo + d] += att[row + j] * dout[qo + d];
          }
          dpreatt[row + j] = datt;
          dot += att[row + j] * datt;
        }
        for (let j = 0; j < T; j++) dpreatt[row + j] = j <= t ? att[row + j] * (dpreatt[row + j] - dot) : 0;
        for (let j = 0; j <= t; j++) {
          const ko = ((b * T + j) * NKV + kh) * HS;
          const dp = dpreatt[row + j] * scale;
          for (let d = 0; d < HS; d++) {
            dq[qo + d] += dp * k[ko + d];
            dk[ko + d] += dp * q[qo + d];
          }
        }
      }
    }
  }
}

export interface GqaDecodeShape {
  /** Cached positions, the new token's included (1 ≤ T ≤ the cache's rows). */
  T: number;
  NH: number;
  NKV: number;
  HS: number;
}

/**
 * One new query (B = 1) against the KV cache: att[h,:] = softmax_{s < T}(q[h]·kcache[s, kvHead(h)] / √HS),
 * out[h,:] = Σ_s att[h,s] · vcache[s, kvHead(h)]. q, out (NH, HS); kcache, vcache (maxT, NKV, HS), rows
 * s < T valid; att (NH, T) scratch. No mask: the cache holds only positions ≤ the query's.
 */
export function gqaDecode(out: Arr, att: Arr, q: Arr, kcache: Arr, vcache: Arr, s: GqaDecodeShape): void {
  const { T, NH, NKV, HS } = s;
  const scale = 1 / Math.sqrt(HS);
  for (let h = 0; h < NH; h++) {
    const kh = kvHead(h, s);
    let max = -Infinity;
    for (let j = 0; j < T; j++) {
      let dot = 0;
      for (let d = 0; d < HS; d++) dot += q[h * HS + d] * kcache[(j * NKV + kh) * HS + d];
      att[h * T + j] = dot * scale;
      max = Math.max(max, dot * scale);
    }
    let sum = 0;
    for (let j = 0; j < T; j++) {
      att[h * T + j] = Math.exp(att[h * T + j] - max);
      sum += att[h * T + j];
    }
    for (let j = 0; j < T; j++) att[h * T + j] /= sum;
    for (let d = 0; d < HS; d++) {
      let acc = 0;
      for (let j = 0; j < T; j++) acc += att[h * T + j] * vcache[(j * NKV + kh) * HS + d];
      out[h * HS + d] = acc;
    }
  }
}
