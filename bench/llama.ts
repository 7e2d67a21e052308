// The bench's Llama row (issue 12): one LoRA training step (forward, loss, backward to A/B, AdamW) of a
// Llama block stack — RMSNorm, rotary embedding (rotate-half), grouped-query attention, SwiGLU MLP, untied
// head, LoRA on q_proj and v_proj (PEFT's default for Llama) — on the engine (LlamaLoraModel) and on the
// same stack written here in tfjs-webgpu ops, in the same page and on the same adapter, with the same
// weights (a synthetic HF folder loaded with the app's own loader), LoRA A/B and batch. Before timing, the
// first-step loss and every A/B gradient of the two are compared; the ratio is tfjs ms / engine ms.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // tfjs-core alone registers no gradient functions
import type { GpuContext } from '../src/gpu/context';
import { type LoadedLlama, loadModelDir, sourceFromMap } from '../src/io/hfModel';
import { type F32Tensor, writeSafetensors } from '../src/io/safetensors';
import { LlamaLoraModel } from '../src/model/llama/model';
import { seededUniform } from '../src/ref/seeded';
import type { TrainProfile } from './cases';
import { profileEngine } from './train';
import { randomBatch, timeSteps } from './steps';

export interface LlamaCase {
  name: string;
  C: number; // hidden_size
  L: number; // num_hidden_layers
  NH: number; // num_attention_heads
  NKV: number; // num_key_value_heads (GQA group NH/NKV)
  HS: number; // head_dim
  I: number; // intermediate_size
  B: number;
  T: number;
  V: number; // vocab_size
  R: number; // LoRA rank
  /** model_type (default 'llama'); 'qwen3' adds the per-head q_norm/k_norm weights. */
  modelType?: 'llama' | 'qwen3';
  /** tie_word_embeddings (default false: an lm_head of its own). */
  tied?: boolean;
  /** rope_theta (default 10000). */
  theta?: number;
}

/** The row's case: the width and tokens of the GPT-2 rows' first case (C 128, L 2, B 4, T 64), GQA 2, I ≈ 2.75·C as Llama. */
export const LLAMA_CASES: LlamaCase[] = [
  { name: 'Llama C128 L2 B4 T64', C: 128, L: 2, NH: 4, NKV: 2, HS: 32, I: 352, B: 4, T: 64, V: 1000, R: 8 },
];

export interface LlamaCaseResult {
  name: string;
  c: LlamaCase;
  tokens: number; // B·T per step
  trainable: number; // LoRA parameters
  engineMs: number; // median ms per step (step + AdamW, synchronised)
  tfjsMs: number;
  engineTokensPerS: number;
  tfjsTokensPerS: number;
  ratio: number; // tfjsMs / engineMs: > 1 means the engine is faster
  engineLoss0: number;
  tfjsLoss0: number;
  lossDiff: number;
  gradMaxAbsDiff: number; // over every A and B element, first step
  gradMaxAbs: number;
  tfjsKernels: number;
  engineRepsMs: number[];
  tfjsRepsMs: number[];
  /** Engine dispatches per step (without AdamW). */
  engineDispatches: number;
  /** --profile: the engine's per-kernel times. */
  profile?: TrainProfile;
}

export const LLAMA_TARGETS = ['q_proj', 'v_proj'];
const LORA_ALPHA = 16;
const LR = 1e-3;
const EPS = 1e-5; // rms_norm_eps
const THETA = 10000; // rope_theta, no rope_scaling

const randn = (n: number, std: number, seed: number) => {
  const u = seededUniform(n, Math.imul(seed, 2654435761) >>> 0);
  for (let i = 0; i < n; i++) u[i] *= std * Math.sqrt(3); // U(−a, a) has std a/√3
  return u;
};

/**
 * A LlamaForCausalLM (or Qwen3ForCausalLM) folder in memory: config.json as transformers writes it, `model.`
 * names, lm_head unless tied.
 */
export async function syntheticLlama(c: LlamaCase): Promise<LoadedLlama> {
  const qwen3 = c.modelType === 'qwen3';
  const config = {
    architectures: [qwen3 ? 'Qwen3ForCausalLM' : 'LlamaForCausalLM'], model_type: c.modelType ?? 'llama', hidden_size: c.C, intermediate_size: c.I,
    num_hidden_layers: c.L, num_attention_heads: c.NH, num_key_value_heads: c.NKV, head_dim: c.HS,
    max_position_embeddings: c.T, rms_norm_eps: EPS, rope_theta: c.theta ?? THETA, rope_scaling: null, hidden_act: 'silu',
    attention_bias: false, ...(qwen3 ? { use_sliding_window: false, sliding_window: null } : { mlp_bias: false }),
    tie_word_embeddings: !!c.tied, vocab_size: c.V, bos_token_id: 1, eos_token_id: 2,
    torch_dtype: 'float32',
  };
  let seed = 1;
  const t = new Map<string, F32Tensor>();
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const d = randn(shape.reduce((a, b) => a * b, 1), std, seed++);
    if (mean) for (let i = 0; i < d.length; i++) d[i] += mean;
    t.set(name, { shape, data: d });
  };
  put('model.embed_tokens.weight', [c.V, c.C], 0.02);
  for (let l = 0; l < c.L; l++) {
    const p = `model.layers.${l}.`;
    put(`${p}input_layernorm.weight`, [c.C], 0.05, 1);
    // q and k larger than the rest: scores of order 1, so attention is far from uniform and a wrong rotation
    // or head mapping on either side shows in the agreement check.
    put(`${p}self_attn.q_proj.weight`, [c.NH * c.HS, c.C], 0.1);
    put(`${p}self_attn.k_proj.weight`, [c.NKV * c.HS, c.C], 0.1);
    put(`${p}self_attn.v_proj.weight`, [c.NKV * c.HS, c.C], 0.02);
    put(`${p}self_attn.o_proj.weight`, [c.C, c.NH * c.HS], 0.02);
    if (qwen3) {
      put(`${p}self_attn.q_norm.weight`, [c.HS], 0.05, 1);
      put(`${p}self_attn.k_norm.weight`, [c.HS], 0.05, 1);
    }
    put(`${p}post_attention_layernorm.weight`, [c.C], 0.05, 1);
    put(`${p}mlp.gate_proj.weight`, [c.I, c.C], 0.02);
    put(`${p}mlp.up_proj.weight`, [c.I, c.C], 0.02);
    put(`${p}mlp.down_proj.weight`, [c.C, c.I], 0.02);
  }
  put('model.norm.weight', [c.C], 0.05, 1);
  if (!c.tied) put('lm_head.weight', [c.V, c.C], 0.02);
  const files = new Map<string, Uint8Array | string>([['config.json', JSON.stringify(config)], ['model.safetensors', writeSafetensors(t)]]);
  const loaded = await loadModelDir(sourceFromMap(files));
  if (loaded.kind !== 'llama') throw new Error(`synthetic Llama loaded as a ${loaded.kind} model`);
  return loaded;
}

interface TfLora { A: tf.Variable; B: tf.Variable }

/**
 * The stack in tfjs ops (nn.Linear y = x·Wᵀ), written from the transformers equations independently of the
 * engine's kernels: rms(x) = x·rsqrt(mean(x²) + eps)·w; q, k rotated by HF's rotate-half with
 * inv_freq[j] = θ^(−2j/HS); query head h reads KV head ⌊h / (NH/NKV)⌋; causal softmax(q·kᵀ/√HS)·v;
 * down(silu(gate(n2)) ⊙ up(n2)); logits = rms_f(x)·lm_headᵀ; mean softmax cross-entropy.
 */
class TfLlamaLora {
  private readonly consts: tf.Tensor[] = [];
  private readonly w = new Map<string, tf.Tensor>();
  private readonly lora = new Map<string, TfLora>(); // by PEFT module path
  readonly vars: tf.Variable[] = [];
  private readonly ids: tf.Tensor1D;
  private readonly onehot: tf.Tensor2D;
  private readonly mask: tf.Tensor2D;
  private readonly cos: tf.Tensor2D;
  private readonly sin: tf.Tensor2D;
  private readonly optimizer: tf.AdamOptimizer;

  constructor(loaded: LoadedLlama, private readonly c: LlamaCase, init: Map<string, Float32Array>,
    shapes: Map<string, number[]>, ids: Uint32Array, labels: Int32Array) {
    // This stack is Llama's: no q/k norms, an lm_head of its own (the Qwen3 and tied cases are engine-only, bench/device.ts).
    if (c.modelType === 'qwen3' || c.tied) throw new Error(`tfjs Llama: ${c.name} is not a plain untied Llama`);
    const keep = <T extends tf.Tensor>(x: T): T => { this.consts.push(x); return x; };
    for (const [name, t] of loaded.tensors) this.w.set(name, keep(tf.tensor(t.data, [...t.shape] as number[])));
    for (const [name, data] of init) {
      const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(name);
      if (!m) throw new Error(`tfjs Llama: unexpected trainable ${name}`);
      const [rows, cols] = shapes.get(name) ?? [];
      const v = tf.variable(tf.tensor2d(data, [rows, cols]), true, `llama/${name}`);
      this.vars.push(v);
      const slot = this.lora.get(m[1]) ?? ({} as TfLora);
      slot[m[2] as 'A' | 'B'] = v;
      this.lora.set(m[1], slot);
    }
    this.ids = keep(tf.tensor1d(Int32Array.from(ids), 'int32'));
    this.onehot = keep(tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), c.V), 'float32') as tf.Tensor2D));
    const m = new Float32Array(c.T * c.T);
    for (let i = 0; i < c.T; i++) for (let j = i + 1; j < c.T; j++) m[i * c.T + j] = -1e9;
    this.mask = keep(tf.tensor2d(m, [c.T, c.T]));
    const cos = new Float32Array(c.T * c.HS), sin = new Float32Array(c.T * c.HS);
    for (let p = 0; p < c.T; p++) {
      for (let j = 0; j < c.HS / 2; j++) {
        const a = p * THETA ** (-2 * j / c.HS);
        for (const k of [j, j + c.HS / 2]) { cos[p * c.HS + k] = Math.cos(a); sin[p * c.HS + k] = Math.sin(a); }
      }
    }
    this.cos = keep(tf.tensor2d(cos, [c.T, c.HS]));
    this.sin = keep(tf.tensor2d(sin, [c.T, c.HS]));
    this.optimizer = tf.train.adam(LR, 0.9, 0.999, 1e-8); // AdamW with decay 0, the engine's default
  }

  private get(name: string): tf.Tensor {
    const t = this.w.get(name);
    if (!t) throw new Error(`tfjs Llama: no ${name}`);
    return t;
  }

  private rms(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), EPS))), this.get(name)) as tf.Tensor2D;
  }

  private linear(x: tf.Tensor2D, path: string): tf.Tensor2D {
    const y: tf.Tensor2D = tf.matMul(x, this.get(`${path.slice('model.'.length)}.weight`) as tf.Tensor2D, false, true);
    const ad = this.lora.get(path);
    if (!ad) return y;
    return tf.add(y, tf.mul(tf.matMul(tf.matMul(x, ad.A as tf.Tensor2D, false, true), ad.B as tf.Tensor2D, false, true), LORA_ALPHA / this.c.R)) as tf.Tensor2D;
  }

  /** (B·T, n·HS) → (B, n, T, HS), rotated. */
  private rope(x: tf.Tensor2D, n: number): tf.Tensor4D {
    const { B, T, HS } = this.c;
    const h = tf.transpose(tf.reshape(x, [B, T, n, HS]), [0, 2, 1, 3]) as tf.Tensor4D;
    const [x1, x2] = tf.split(h, 2, 3);
    return tf.add(tf.mul(h, this.cos), tf.mul(tf.concat([tf.neg(x2), x1], 3), this.sin)) as tf.Tensor4D;
  }

  /** KV heads repeated for their query groups: (B, NKV, T, HS) → (B, NH, T, HS), head h ← ⌊h / rep⌋. */
  private repeatKv(x: tf.Tensor4D): tf.Tensor4D {
    const { B, T, NH, NKV, HS } = this.c;
    const rep = NH / NKV;
    if (rep === 1) return x;
    const e = tf.expandDims(x, 2); // (B, NKV, 1, T, HS)
    return tf.reshape(tf.concat(Array.from({ length: rep }, () => e), 2), [B, NH, T, HS]);
  }

  loss = (): tf.Scalar => {
    const { B, T, L, NH, NKV, HS } = this.c;
    let x = tf.gather(this.get('embed_tokens.weight'), this.ids) as tf.Tensor2D; // (B·T, C)
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}.`;
      const n1 = this.rms(x, `layers.${l}.input_layernorm.weight`);
      const q = this.rope(this.linear(n1, `${p}self_attn.q_proj`), NH);
      const k = this.repeatKv(this.rope(this.linear(n1, `${p}self_attn.k_proj`), NKV));
      const v = this.repeatKv(tf.transpose(tf.reshape(this.linear(n1, `${p}self_attn.v_proj`), [B, T, NKV, HS]), [0, 2, 1, 3]) as tf.Tensor4D);
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HS)), this.mask));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, NH * HS]) as tf.Tensor2D;
      x = tf.add(x, this.linear(y, `${p}self_attn.o_proj`));
      const n2 = this.rms(x, `layers.${l}.post_attention_layernorm.weight`);
      const g = this.linear(n2, `${p}mlp.gate_proj`);
      x = tf.add(x, this.linear(tf.mul(tf.mul(g, tf.sigmoid(g)), this.linear(n2, `${p}mlp.up_proj`)), `${p}mlp.down_proj`));
    }
    const logits = tf.matMul(this.rms(x, 'norm.weight'), this.get('lm_head.weight') as tf.Tensor2D, false, true);
    return tf.losses.softmaxCrossEntropy(this.onehot, logits) as tf.Scalar;
  };

  /** The first step's loss and gradients by trainable name, without updating. */
  async grads(): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
    const { value, grads } = tf.variableGrads(this.loss, this.vars);
    const out = new Map<string, Float32Array>();
    for (const v of this.vars) out.set(v.name.slice('llama/'.length), (await grads[v.name].data()) as Float32Array);
    const loss = (await value.data())[0];
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: out };
  }

  /** One training step; the loss readback waits for everything it enqueued, the Adam update included. */
  async step(): Promise<number> {
    const loss = this.optimizer.minimize(this.loss, true, this.vars)!;
    const v = (await loss.data())[0];
    loss.dispose();
    return v;
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose([...this.consts, ...this.vars]);
  }
}

export async function runLlamaCase(
  ctx: GpuContext, c: LlamaCase, reps: number, log: (s: string) => void, profile = false,
): Promise<LlamaCaseResult> {
  const loaded = await syntheticLlama(c);
  const { ids, labels } = randomBatch(c, 778); // the same batch every step; no label ignored
  const model = await LlamaLoraModel.create(ctx, loaded, { targetModules: LLAMA_TARGETS, r: c.R, scale: LORA_ALPHA / c.R, B: c.B, T: c.T, seed: 0 });
  // A as PEFT's kaiming-uniform bound, B small but non-zero so the LoRA path counts in the loss and gradients.
  const entries = model.trainableEntries();
  const init = new Map(entries.map((e, i) => {
    const d = seededUniform(e.shape.reduce((a, b) => a * b, 1), 2000 + i);
    const bound = e.name.endsWith('lora_A.weight') ? 1 / Math.sqrt(e.shape[1]) : 0.02;
    for (let j = 0; j < d.length; j++) d[j] *= bound;
    return [e.name, d];
  }));
  model.setLoraWeights(init);
  const tfm = new TfLlamaLora(loaded, c, init, new Map(entries.map((e) => [e.name, e.shape])), ids, labels);
  try {
    const engineLoss0 = (await model.step(ids, labels)).loss;
    const eg = await model.readGrads();
    const { loss: tfjsLoss0, grads } = await tfm.grads();
    let gradMax = 0, gradDiff = 0;
    for (const [name, tg] of grads) {
      const e = eg.get(name);
      if (!e || e.length !== tg.length) throw new Error(`Llama bench: the engine has no gradient ${name} of ${tg.length} values`);
      for (let i = 0; i < tg.length; i++) {
        gradMax = Math.max(gradMax, Math.abs(tg[i]));
        gradDiff = Math.max(gradDiff, Math.abs(tg[i] - e[i]));
      }
    }
    log(`${c.name}: first-step loss engine ${engineLoss0.toFixed(6)}, tfjs ${tfjsLoss0.toFixed(6)}, ` +
      `max|Δgrad| ${gradDiff.toExponential(1)} (max|grad| ${gradMax.toExponential(1)})`);
    // The agreement check: a stack that computes something else is not a benchmark of the same work.
    if (!(Math.abs(engineLoss0 - tfjsLoss0) <= 1e-4 * Math.abs(tfjsLoss0)) || !(gradDiff <= 1e-3 * gradMax)) {
      throw new Error(`Llama bench: engine and tfjs disagree (loss ${engineLoss0} vs ${tfjsLoss0}, max|Δgrad| ${gradDiff} of ${gradMax})`);
    }
    const { times, engineMs, tfjsMs, info } = await timeSteps(ctx, c.name, model, { ids, labels }, LR, () => tfm.step(), reps, log);
    const tokens = c.B * c.T;
    const prof = profile ? await profileEngine(ctx, model, Math.max(1, Math.min(reps, 3))) : undefined;
    const r: LlamaCaseResult = {
      name: c.name, c, tokens, trainable: entries.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1), 0),
      engineMs, tfjsMs, engineTokensPerS: tokens / (engineMs / 1000), tfjsTokensPerS: tokens / (tfjsMs / 1000),
      ratio: tfjsMs / engineMs, engineLoss0, tfjsLoss0, lossDiff: Math.abs(engineLoss0 - tfjsLoss0),
      gradMaxAbsDiff: gradDiff, gradMaxAbs: gradMax, tfjsKernels: info.kernels.length,
      engineRepsMs: times[0], tfjsRepsMs: times[1], engineDispatches: model.profileLaunches().length, profile: prof,
    };
    log(`${c.name}: engine ${r.engineTokensPerS.toFixed(0)} tok/s (${engineMs.toFixed(0)} ms), tfjs ${r.tfjsTokensPerS.toFixed(0)} tok/s (${tfjsMs.toFixed(0)} ms), ${r.ratio.toFixed(2)}×; ` +
      `reps engine ${times[0].map((t) => t.toFixed(0)).join('/')} ms, tfjs ${times[1].map((t) => t.toFixed(0)).join('/')} ms`);
    return r;
  } finally {
    tfm.dispose();
    model.destroy();
  }
}

/** The row's lines for `npm run bench`'s table. */
export function llamaTable(rows: readonly LlamaCaseResult[] | undefined): string[] {
  if (!rows?.length) return [];
  const c0 = rows[0].c;
  return [
    `LoRA training step of a synthetic Llama (RMSNorm, RoPE, GQA ${c0.NH}/${c0.NKV}, SwiGLU I ${c0.I}, head_dim ${c0.HS}, untied head, V ${c0.V});`,
    `LoRA r ${c0.R}, alpha ${LORA_ALPHA} on ${LLAMA_TARGETS.join(', ')}; tfjs: the same stack in tfjs ops, tf.train.adam = AdamW with decay 0`,
    `${'case'.padEnd(22)} ${'tokens'.padStart(6)} ${'LoRA'.padStart(7)} ${'engine'.padStart(8)} ${'tfjs'.padStart(8)} ${'ratio'.padStart(7)} ` +
      `${'loss0'.padStart(9)} ${'|Δloss|'.padStart(8)} ${'max|Δg|/max|g|'.padStart(15)} ${'dispatch'.padStart(9)}`,
    `${''.padEnd(22)} ${'/step'.padStart(6)} ${'params'.padStart(7)} ${'tok/s'.padStart(8)} ${'tok/s'.padStart(8)} ${''.padStart(7)} ` +
      `${''.padStart(9)} ${''.padStart(8)} ${''.padStart(15)} ${'eng/tfjs'.padStart(9)}`,
    ...rows.map((x) => [x.name.padEnd(22), String(x.tokens).padStart(6), String(x.trainable).padStart(7),
      x.engineTokensPerS.toFixed(0).padStart(8), x.tfjsTokensPerS.toFixed(0).padStart(8), `${x.ratio.toFixed(2)}×`.padStart(7),
      x.engineLoss0.toFixed(5).padStart(9), x.lossDiff.toExponential(1).padStart(8),
      `${x.gradMaxAbsDiff.toExponential(1)}/${x.gradMaxAbs.toExponential(1)}`.padStart(15), `${x.engineDispatches}/${x.tfjsKernels}`.padStart(9)].join(' ')),
    ...rows.flatMap(profileLines),
    '',
  ];
}

/** --profile: where the engine's step goes, largest kernels first. */
function profileLines(x: LlamaCaseResult): string[] {
  if (!x.profile) return [];
  const total = x.profile.kernels.reduce((s, k) => s + k.ms, 0);
  return [
    '', `engine profile ${x.name}: ${x.profile.dispatches} dispatches, each alone (empty submit+wait ` +
      `${x.profile.emptySubmitMs.toFixed(2)} ms subtracted); sum ${total.toFixed(1)} ms vs ${x.engineMs.toFixed(1)} ms per step`,
    ...x.profile.kernels.slice(0, 20).map((k) =>
      `  ${k.name.padEnd(44)} ${k.ms.toFixed(1).padStart(8)} ms ${(100 * k.ms / total).toFixed(1).padStart(5)} %  ×${k.dispatches}`),
  ];
}
