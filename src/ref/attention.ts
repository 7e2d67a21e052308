// attention reference — the multi-head self-attention core of GPT-2 and ViT, the spec of
// shaders/attention_{forward,forward_values,backward,backward_qkv}.wgsl (llm.c's attention_forward /
// attention_backward, with the causal mask optional and gradients written, not accumulated).
//
// qkv (B, T, 3C) is GPT-2's c_attn output: columns [0, C) Q, [C, 2C) K, [2C, 3C) V; head h is the
// slice [h·HS, (h+1)·HS) of each third. out, dout (B, T, C), channel c = h·HS + d.
// att, dpreatt (B, NH, T, T): probabilities and the gradient of the scaled scores.
import type { Arr } from './types';

export interface AttentionShape {
  B: number;
  T: number;
  /** Channels; C = NH · HS. */
  C: number;
  NH: number;
  /** GPT-2's mask (key s > query t hidden); false for ViT. */
  causal: boolean;
}

/** Head size HS = C / NH. */
export const headSize = (s: AttentionShape): number => s.C / s.NH;

/**
 * att[b,h,t,:] = softmax((q_t · k_s) / √HS over visible s), 0 where masked;
 * out[b,t,h·HS+d] = Σ_s att[b,h,t,s] · v[b,s,h·HS+d]. Caches att for the backward.
 */
export function attentionForward(out: Arr, att: Arr, qkv: Arr, s: AttentionShape): void {
  const { B, T, C, NH } = s;
  const HS = headSize(s);
  const scale = 1 / Math.sqrt(HS);
  const C3 = 3 * C;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * HS;
        const row = ((b * NH + h) * T + t) * T;
        const sEnd = s.causal ? t + 1 : T;
        let max = -Infinity;
        for (let k = 0; k < sEnd; k++) {
          const ko = (b * T + k) * C3 + C + h * HS;
          let dot = 0;
          for (let d = 0; d < HS; d++) dot += qkv[q + d] * qkv[ko + d];
          att[row + k] = dot * scale;
          max = Math.max(max, dot * scale);
        }
        let sum = 0;
        for (let k = 0; k < sEnd; k++) {
          const e = Math.exp(att[row + k] - max);
          att[row + k] = e;
          sum += e;
        }
        for (let k = 0; k < T; k++) att[row + k] = k < sEnd ? att[row + k] / sum : 0;
        for (let d = 0; d < HS; d++) {
          let acc = 0;
          for (let k = 0; k < sEnd; k++) acc += att[row + k] * qkv[(b * T + k) * C3 + 2 * C + h * HS + d];
          out[(b * T + t) * C + h * HS + d] = acc;
        }
      }
    }
  }
}

/**
 * Gradients of L = Σ dout ⊙ out with respect to qkv, given the forward's att. Overwrites dqkv
 * (B, T, 3C) and dpreatt (B, NH, T, T), the intermediate the GPU also materialises:
 *   datt = dout · Vᵀ;  dpreatt = att ⊙ (datt − Σ att ⊙ datt);  dV = attᵀ · dout;
 *   dQ = dpreatt · K / √HS;  dK = dpreattᵀ · Q / √HS.
 */
export function attentionBackward(dqkv: Arr, dpreatt: Arr, dout: Arr, qkv: Arr, att: Arr, s: AttentionShape): void {
  const { B, T, C, NH } = s;
  const HS = headSize(s);
  const scale = 1 / Math.sqrt(HS);
  const C3 = 3 * C;
  dqkv.fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * NH + h) * T + t) * T;
        const sEnd = s.causal ? t + 1 : T;
        const g = (b * T + t) * C + h * HS;
        let dot = 0;
        for (let k = 0; k < sEnd; k++) {
          const v = (b * T + k) * C3 + 2 * C + h * HS;
          let datt = 0;
          for (let d = 0; d < HS; d++) {
            datt += dout[g + d] * qkv[v + d];
            dqkv[v + d] += att[row + k] * dout[g + d]; // dV
          }
          dpreatt[row + k] = datt;
          dot += att[row + k] * datt;
        }
        for (let k = 0; k < T; k++) dpreatt[row + k] = k < sEnd ? att[row + k] * (dpreatt[row + k] - dot) : 0;
        const q = (b * T + t) * C3 + h * HS;
        for (let k = 0; k < sEnd; k++) {
          const ko = (b * T + k) * C3 + C + h * HS;
          const dp = dpreatt[row + k] * scale;
          for (let d = 0; d < HS; d++) {
            dqkv[q + d] += dp * qkv[ko + d]; // dQ
            dqkv[ko + d] += dp * qkv[q + d]; // dK
          }
        }
      }
    }
  }
}
