// The CPU reference of a whole Llama-family model (Llama, Mistral, Qwen2, Qwen3), written from the
// equations of docs/engineering.md#llama-block in plain loops with Float64 accumulation, and nothing from the
// GPU kernels or their src/ref specs, so it is an independent oracle for the engine (tests compare the
// GPU stack, logits and loss with it, and the LoRA/DoRA gradients with its finite differences):
//   n1 = rms1(x);  q = rope(qnorm(q_proj(n1))), k = rope(knorm(k_proj(n1))), v = v_proj(n1)
//   h = x + o_proj(causal GQA(q, k, v));  y = h + down_proj(silu(gate_proj(n2)) ⊙ up_proj(n2)), n2 = rms2(h)
//   logits = rms_f(y) · Wᵀ with W = lm_head.weight, or embed_tokens.weight when tied
// Every block linear is nn.Linear (W [out, in]) with, when its PEFT path has an adapter,
//   LoRA  y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ;  DoRA  y = (m / norm) ⊙ (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) + b,
// norm = the row norms of W + s·B·A (detached in PEFT: pass `norm` to hold it fixed for finite differences).
// Names follow the spec (../families/spec.ts) and the canonical tensor names of a loaded Llama.
import { invFreq, ropeTable } from '../../ref/rope_freq';
import { IGNORE_INDEX } from '../../ref/softmax_xent';
import type { FamilySpec } from '../families/spec';

export interface ReferenceAdapter {
  A: ArrayLike<number>; // (R, IN)
  B: ArrayLike<number>; // (OUT, R)
  R: number;
  scale: number;
  m?: ArrayLike<number>; // DoRA magnitude (OUT)
  norm?: ArrayLike<number>; // DoRA: a fixed row norm (OUT) instead of the one of W + s·B·A
}

/** Adapters by PEFT module path (`model.layers.{l}.self_attn.q_proj`); modules without one are plain linears. */
export type ReferenceAdapters = ReadonlyMap<string, ReferenceAdapter>;

export type ReferenceTensors = ReadonlyMap<string, { data: ArrayLike<number> }>;

function tensor(tensors: ReferenceTensors, name: string): ArrayLike<number> {
  const t = tensors.get(name);
  if (!t) throw new Error(`reference Llama: missing tensor ${name}`);
  return t.data;
}

/** s·(B·A)[o, i], the adapter's weight delta at one element. */
function delta(ad: ReferenceAdapter, o: number, i: number, IN: number): number {
  let d = 0;
  for (let r = 0; r < ad.R; r++) d += ad.B[o * ad.R + r] * ad.A[r * IN + i];
  return ad.scale * d;
}

/** DoRA's row norms ‖W[o, :] + s·(B·A)[o, :]‖ of one module. */
export function doraRowNorms(w: ArrayLike<number>, ad: ReferenceAdapter, IN: number, OUT: number): Float64Array {
  const norm = new Float64Array(OUT);
  for (let o = 0; o < OUT; o++) {
    let s = 0;
    for (let i = 0; i < IN; i++) {
      const v = w[o * IN + i] + delta(ad, o, i, IN);
      s += v * v;
    }
    norm[o] = Math.sqrt(s);
  }
  return norm;
}

/** y (N, OUT) = the module (frozen W, b, optional adapter) applied to x (N, IN). */
function linear(x: Float64Array, N: number, IN: number, OUT: number, w: ArrayLike<number>, b: ArrayLike<number> | null, ad?: ReferenceAdapter): Float64Array {
  const y = new Float64Array(N * OUT);
  const h = ad ? new Float64Array(N * ad.R) : null;
  if (ad && h) {
    for (let n = 0; n < N; n++) {
      for (let r = 0; r < ad.R; r++) {
        let s = 0;
        for (let i = 0; i < IN; i++) s += x[n * IN + i] * ad.A[r * IN + i];
        h[n * ad.R + r] = s;
      }
    }
  }
  const norm = ad?.m ? (ad.norm ?? doraRowNorms(w, ad, IN, OUT)) : null;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let s = 0;
      for (let i = 0; i < IN; i++) s += x[n * IN + i] * w[o * IN + i];
      if (ad && h) {
        let l = 0;
        for (let r = 0; r < ad.R; r++) l += h[n * ad.R + r] * ad.B[o * ad.R + r];
        s += ad.scale * l;
      }
      if (ad?.m && norm) s *= ad.m[o] / norm[o];
      y[n * OUT + o] = s + (b ? b[o] : 0);
    }
  }
  return y;
}

/** RMSNorm over rows of C: x · 1/√(mean(x²) + eps) · w. */
function rmsnorm(x: Float64Array, rows: number, C: number, w: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < C; i++) ss += x[r * C + i] ** 2;
    const rstd = 1 / Math.sqrt(ss / C + eps);
    for (let i = 0; i < C; i++) y[r * C + i] = x[r * C + i] * rstd * w[i];
  }
  return y;
}

/** HF rotate-half in place on (B, T, heads, HS): x' = x·cos + rotate_half(x)·sin at position t. */
function rope(x: Float64Array, B: number, T: number, heads: number, HS: number, cos: ArrayLike<number>, sin: ArrayLike<number>): void {
  const half = HS / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let hd = 0; hd < heads; hd++) {
        const o = ((b * T + t) * heads + hd) * HS;
        for (let j = 0; j < half; j++) {
          const c = cos[t * half + j], s = sin[t * half + j];
          const x1 = x[o + j], x2 = x[o + j + half];
          x[o + j] = x1 * c - x2 * s;
          x[o + j + half] = x2 * c + x1 * s;
        }
      }
    }
  }
}

/** Causal attention with NKV ≤ NH key/value heads: query head h reads KV head ⌊h / (NH/NKV)⌋. */
function attention(q: Float64Array, k: Float64Array, v: Float64Array, B: number, T: number, NH: number, NKV: number, HS: number): Float64Array {
  const out = new Float64Array(B * T * NH * HS);
  const group = NH / NKV, scale = 1 / Math.sqrt(HS);
  const p = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let hd = 0; hd < NH; hd++) {
      const kh = Math.floor(hd / group);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * NH + hd) * HS;
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          const ko = ((b * T + s) * NKV + kh) * HS;
          let d = 0;
          for (let i = 0; i < HS; i++) d += q[qo + i] * k[ko + i];
          p[s] = d * scale;
          max = Math.max(max, p[s]);
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) { p[s] = Math.exp(p[s] - max); sum += p[s]; }
        for (let s = 0; s <= t; s++) {
          const vo = ((b * T + s) * NKV + kh) * HS, a = p[s] / sum;
          for (let i = 0; i < HS; i++) out[qo + i] += a * v[vo + i];
        }
      }
    }
  }
  return out;
}

function checkSpec(spec: FamilySpec): void {
  if (spec.norm !== 'rmsnorm' || spec.mlp !== 'gated_silu' || spec.layout !== 'linear' || spec.modules.qkv.length !== 3 || !spec.modules.gate) {
    throw new Error(`reference Llama: ${spec.family} is not a Llama-family spec (RMSNorm, gated SiLU, q/k/v nn.Linear)`);
  }
}

/** The block stack on x = resid[0] (B·T, C): returns resid[L]. */
export function referenceLlamaStack(
  spec: FamilySpec, tensors: ReferenceTensors, x0: ArrayLike<number>, B: number, T: number, adapters: ReferenceAdapters = new Map(),
): Float64Array {
  checkSpec(spec);
  const { C, I, L, eps } = spec, { NH, NKV, HS, qkNorm } = spec.attention, N = B * T;
  const QW = NH * HS, KW = NKV * HS;
  const table = spec.position === 'rotary' && spec.rotary ? ropeTable(invFreq(spec.rotary.config, HS), T) : null;
  let x = Float64Array.from(x0);
  for (let l = 0; l < L; l++) {
    const pre = spec.blockPrefix(l), peft = spec.peftPrefix(l);
    const t = (name: string) => tensor(tensors, `${pre}${name}`);
    const bias = (m: string, on: boolean) => (on ? t(`${m}.bias`) : null);
    const lin = (m: string, inp: Float64Array, IN: number, OUT: number, hasBias: boolean) =>
      linear(inp, N, IN, OUT, t(`${m}.weight`), bias(m, hasBias), adapters.get(`${peft}${m}`));
    const [qm, km, vm] = spec.modules.qkv;
    const n1 = rmsnorm(x, N, C, t(`${spec.norms.n1}.weight`), eps);
    let q = lin(qm, n1, C, QW, spec.biases.qkv), k = lin(km, n1, C, KW, spec.biases.qkv);
    const v = lin(vm, n1, C, KW, spec.biases.qkv);
    if (qkNorm) {
      q = rmsnorm(q, N * NH, HS, t(`${spec.norms.q}.weight`), eps);
      k = rmsnorm(k, N * NKV, HS, t(`${spec.norms.k}.weight`), eps);
    }
    if (table) {
      rope(q, B, T, NH, HS, table.cos, table.sin);
      rope(k, B, T, NKV, HS, table.cos, table.sin);
    }
    const y = lin(spec.modules.o, attention(q, k, v, B, T, NH, NKV, HS), QW, C, spec.biases.o);
    const h = x.map((xi, i) => xi + y[i]);
    const n2 = rmsnorm(h, N, C, t(`${spec.norms.n2}.weight`), eps);
    const g = lin(spec.modules.gate as string, n2, C, I, spec.biases.mlp), u = lin(spec.modules.up, n2, C, I, spec.biases.mlp);
    const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
    const d = lin(spec.modules.down, act, I, C, spec.biases.mlp);
    x = h.map((hi, i) => hi + d[i]);
  }
  return x;
}

/** Names of the stem and head tensors of a loaded Llama (canonical: the HF key minus `model.`). */
export const LLAMA_EMBED = 'embed_tokens.weight';
export const LLAMA_FINAL_NORM = 'norm.weight';
export const LLAMA_LM_HEAD = 'lm_head.weight';

/** Logits (B·T, V): embed_tokens[ids] → the stack → final RMSNorm → the head (tied: the embedding). */
export function referenceLlamaLogits(
  spec: FamilySpec, tensors: ReferenceTensors, V: number, ids: ArrayLike<number>, B: number, T: number, adapters: ReferenceAdapters = new Map(),
): Float64Array {
  const { C } = spec, N = B * T;
  const emb = tensor(tensors, LLAMA_EMBED);
  const x0 = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    if (!(id >= 0 && id < V)) throw new Error(`reference Llama: token id ${id} at ${n} is outside [0, ${V})`);
    for (let i = 0; i < C; i++) x0[n * C + i] = emb[id * C + i];
  }
  const y = rmsnorm(referenceLlamaStack(spec, tensors, x0, B, T, adapters), N, C, tensor(tensors, LLAMA_FINAL_NORM), spec.eps);
  const head = tensor(tensors, spec.tiedHead ? LLAMA_EMBED : LLAMA_LM_HEAD);
  return linear(y, N, C, V, head, null);
}

/** Mean cross-entropy over the positions whose label is not −100 (labels already shifted), and their count. */
export function referenceLlamaLoss(
  spec: FamilySpec, tensors: ReferenceTensors, V: number, ids: ArrayLike<number>, labels: ArrayLike<number>, B: number, T: number,
  adapters: ReferenceAdapters = new Map(),
): { loss: number; count: number } {
  const logits = referenceLlamaLogits(spec, tensors, V, ids, B, T, adapters);
  let sum = 0, count = 0;
  for (let n = 0; n < B * T; n++) {
    if (labels[n] === IGNORE_INDEX) continue;
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits[n * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[n * V + j] - max);
    sum += Math.log(z) + max - logits[n * V + labels[n]];
    count++;
  }
  return { loss: count ? sum / count : 0, count };
}
