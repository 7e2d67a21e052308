// One LoRA training step (forward, loss, backward, AdamW) of a GPT-2-shaped block stack, on the engine
// (Gpt2LoraModel) and on tfjs-webgpu, in the same page and on the same adapter. The model is a
// synthetic Hugging Face folder (config.json + model.safetensors of random weights) built here and
// loaded with the app's own loader; tfjs gets the same tensors, the same LoRA A/B and the same batch.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // tfjs-core alone registers no gradient functions
import type { GpuContext, Launch } from '../src/gpu/context';
import { type LoadedGpt2, loadModelDir, sourceFromMap } from '../src/io/hfModel';
import { type F32Tensor, writeSafetensors } from '../src/io/safetensors';
import { Gpt2LoraModel } from '../src/model/gpt2/model';
import { seededUniform } from '../src/ref/seeded';
import type { TrainCase, TrainCaseResult, TrainProfile } from './cases';
import { median, randomBatch, timeSteps } from './steps';

export const TARGET_MODULES = ['c_attn', 'c_proj', 'c_fc']; // PEFT list: c_proj matches attn.c_proj and mlp.c_proj
const LORA_ALPHA = 16;
const LR = 1e-3;

/** Uniform with the given standard deviation (U(−a, a) has std a/√3). */
const randn = (n: number, std: number, seed: number) => {
  const u = seededUniform(n, Math.imul(seed, 2654435761) >>> 0);
  for (let i = 0; i < n; i++) u[i] *= std * Math.sqrt(3);
  return u;
};

/** A GPT-2 folder in memory: config.json and model.safetensors (bare GPT2Model names, as openai-community/gpt2). */
export async function syntheticGpt2(c: TrainCase): Promise<LoadedGpt2> {
  const C = c.C, I = 4 * c.C;
  const config = {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: C, n_head: c.NH, n_layer: c.L,
    n_positions: c.T, n_ctx: c.T, vocab_size: c.V, n_inner: null, activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5, bos_token_id: c.V - 1, eos_token_id: c.V - 1, torch_dtype: 'float32',
  };
  let seed = 1;
  const t = new Map<string, F32Tensor>();
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const d = randn(shape.reduce((a, b) => a * b, 1), std, seed++);
    if (mean) for (let i = 0; i < d.length; i++) d[i] += mean;
    t.set(name, { shape, data: d });
  };
  put('wte.weight', [c.V, C], 0.02);
  put('wpe.weight', [c.T, C], 0.01);
  for (let l = 0; l < c.L; l++) {
    const h = `h.${l}.`;
    put(`${h}ln_1.weight`, [C], 0.05, 1); put(`${h}ln_1.bias`, [C], 0.02);
    put(`${h}attn.c_attn.weight`, [C, 3 * C], 0.02); put(`${h}attn.c_attn.bias`, [3 * C], 0.02);
    put(`${h}attn.c_proj.weight`, [C, C], 0.02); put(`${h}attn.c_proj.bias`, [C], 0.02);
    put(`${h}ln_2.weight`, [C], 0.05, 1); put(`${h}ln_2.bias`, [C], 0.02);
    put(`${h}mlp.c_fc.weight`, [C, I], 0.02); put(`${h}mlp.c_fc.bias`, [I], 0.02);
    put(`${h}mlp.c_proj.weight`, [I, C], 0.02); put(`${h}mlp.c_proj.bias`, [C], 0.02);
  }
  put('ln_f.weight', [C], 0.05, 1); put('ln_f.bias', [C], 0.02);
  const files = new Map<string, Uint8Array | string>([
    ['config.json', JSON.stringify(config)],
    ['model.safetensors', writeSafetensors(t)],
  ]);
  const loaded = await loadModelDir(sourceFromMap(files));
  if (loaded.kind !== 'gpt2') throw new Error('synthetic GPT-2 loaded as a ViT');
  return loaded;
}

/** Starting LoRA weights for both engines: A as PEFT's kaiming-uniform bound, B small but non-zero, so the LoRA path counts in the loss. */
function initialLora(model: Gpt2LoraModel): Map<string, Float32Array> {
  return new Map(model.table.map((e, i) => {
    const isA = e.name.endsWith('lora_A.weight');
    const d = seededUniform(e.numel, 1000 + i);
    const bound = isA ? 1 / Math.sqrt(e.shape[1]) : 0.02;
    for (let j = 0; j < d.length; j++) d[j] *= bound;
    return [e.name, d];
  }));
}

// ---------------------------------------------------------------------------------------------------
// The tfjs side: the same frozen GPT-2 (Conv1D y = x·W + b, W [in, out]) with LoRA y += s·(x·Aᵀ)·Bᵀ.

interface TfLora { A: tf.Variable; B: tf.Variable; scale: number }

class TfGpt2Lora {
  private readonly consts: tf.Tensor[] = [];
  private readonly w = new Map<string, tf.Tensor>();
  readonly lora = new Map<string, TfLora>(); // by module path transformer.h.{l}.<module>
  readonly vars: tf.Variable[] = [];
  private readonly ids: tf.Tensor1D;
  private readonly onehot: tf.Tensor2D;
  private readonly mask: tf.Tensor2D;
  readonly optimizer: tf.AdamOptimizer;

  constructor(private readonly loaded: LoadedGpt2, private readonly c: TrainCase, table: Gpt2LoraModel['table'],
    init: Map<string, Float32Array>, ids: Uint32Array, labels: Int32Array, uid: string) {
    const keep = <T extends tf.Tensor>(x: T): T => { this.consts.push(x); return x; };
    for (const [name, t] of loaded.tensors) this.w.set(name, keep(tf.tensor(t.data, [...t.shape])));
    for (const e of table) {
      const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(e.name);
      if (!m) throw new Error(`tfjs LoRA: unexpected trainable ${e.name}`);
      const v = tf.variable(tf.tensor2d(init.get(e.name)!, e.shape as [number, number]), true, `${uid}/${e.name}`);
      this.vars.push(v);
      const slot = this.lora.get(m[1]) ?? ({ scale: LORA_ALPHA / c.R } as TfLora);
      slot[m[2] as 'A' | 'B'] = v;
      this.lora.set(m[1], slot);
    }
    this.ids = keep(tf.tensor1d(Int32Array.from(ids), 'int32'));
    this.onehot = keep(tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), c.V), 'float32') as tf.Tensor2D));
    const m = new Float32Array(c.T * c.T);
    for (let i = 0; i < c.T; i++) for (let j = i + 1; j < c.T; j++) m[i * c.T + j] = -1e9;
    this.mask = keep(tf.tensor2d(m, [c.T, c.T]));
    // tfjs Adam is AdamW with weight decay 0 (the engine's default): same moments, bias corrections, eps.
    this.optimizer = tf.train.adam(LR, 0.9, 0.999, 1e-8);
  }

  private get(name: string): tf.Tensor {
    const t = this.w.get(name);
    if (!t) throw new Error(`tfjs GPT-2: no ${name}`);
    return t;
  }

  /** LayerNorm over the last axis, biased variance (as torch). */
  private layerNorm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true);
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.loaded.config.layer_norm_epsilon)));
    return tf.add(tf.mul(xhat, this.get(`${name}.weight`)), this.get(`${name}.bias`));
  }

  /** Conv1D y = x·W + b (W [in, out]), plus s·(x·Aᵀ)·Bᵀ when the module carries LoRA. */
  private linear(x: tf.Tensor2D, l: number, module: string): tf.Tensor2D {
    const y: tf.Tensor2D = tf.add(tf.matMul(x, this.get(`h.${l}.${module}.weight`) as tf.Tensor2D), this.get(`h.${l}.${module}.bias`));
    const ad = this.lora.get(`transformer.h.${l}.${module}`);
    if (!ad) return y;
    return tf.add(y, tf.mul(tf.matMul(tf.matMul(x, ad.A as tf.Tensor2D, false, true), ad.B as tf.Tensor2D, false, true), ad.scale));
  }

  /** Causal multi-head attention on qkv (B·T, 3C) = Q | K | V columns, as GPT-2's split. */
  private attention(qkv: tf.Tensor2D): tf.Tensor2D {
    const { B, T, C, NH } = this.c;
    const HS = C / NH;
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, NH, HS]), [0, 2, 1, 3]); // (B, NH, T, HS)
    const [q, k, v] = tf.split(qkv, 3, 1).map(heads);
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HS)), this.mask);
    const y = tf.matMul(tf.softmax(scores), v); // (B, NH, T, HS)
    return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, C]);
  }

  /** gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  private gelu(x: tf.Tensor2D): tf.Tensor2D {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }

  /** Mean softmax cross-entropy over the batch (no ignored labels); tied head: logits = ln_f(x)·wteᵀ. */
  loss = (): tf.Scalar => {
    const { B, T, C, L } = this.c;
    const wte = this.get('wte.weight') as tf.Tensor2D;
    const pos = tf.slice(this.get('wpe.weight'), [0, 0], [T, C]);
    const emb = tf.add(tf.reshape(tf.gather(wte, this.ids), [B, T, C]), pos);
    let x = tf.reshape(emb, [B * T, C]) as tf.Tensor2D;
    for (let l = 0; l < L; l++) {
      const atty = this.attention(this.linear(this.layerNorm(x, `h.${l}.ln_1`), l, 'attn.c_attn'));
      x = tf.add(x, this.linear(atty, l, 'attn.c_proj'));
      const act = this.gelu(this.linear(this.layerNorm(x, `h.${l}.ln_2`), l, 'mlp.c_fc'));
      x = tf.add(x, this.linear(act, l, 'mlp.c_proj'));
    }
    const logits = tf.matMul(this.layerNorm(x, 'ln_f'), wte, false, true);
    return tf.losses.softmaxCrossEntropy(this.onehot, logits) as tf.Scalar;
  };

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

// ---------------------------------------------------------------------------------------------------


/**
 * Per-kernel time of the engine's step: each dispatch submitted alone and waited for, minus the cost
 * of an empty submit + wait; medians over `reps`, summed by kernel name. AdamW is timed as a whole.
 */
export async function profileEngine(
  ctx: GpuContext, model: { profileLaunches(): { phase: string; launch: Launch }[]; adamwStep(lr: number): Promise<unknown> }, reps: number,
): Promise<TrainProfile> {
  const launches = model.profileLaunches();
  const one = async (launches: Launch[]) => {
    const t0 = performance.now();
    ctx.submit(launches, 'bench/profile');
    await ctx.finish();
    return performance.now() - t0;
  };
  const base: number[] = [];
  const per: number[][] = launches.map(() => []);
  const adam: number[] = [];
  for (let r = 0; r < reps; r++) {
    base.push(await one([]));
    for (let i = 0; i < launches.length; i++) per[i].push(await one([launches[i].launch]));
    const t0 = performance.now();
    await model.adamwStep(LR);
    await ctx.finish();
    adam.push(performance.now() - t0);
  }
  const b = median(base);
  const byKernel = new Map<string, { ms: number; count: number }>();
  const add = (name: string, ms: number) => {
    const k = byKernel.get(name) ?? { ms: 0, count: 0 };
    k.ms += ms;
    k.count += 1;
    byKernel.set(name, k);
  };
  launches.forEach((l, i) => add(`${l.phase}: ${l.launch.label.split('/')[0]}`, Math.max(0, median(per[i]) - b)));
  add('adamw (whole update)', Math.max(0, median(adam) - b));
  const kernels = [...byKernel].map(([name, k]) => ({ name, ms: k.ms, dispatches: k.count })).sort((x, y) => y.ms - x.ms);
  return { emptySubmitMs: b, dispatches: launches.length, kernels };
}

export async function runTrainCase(
  ctx: GpuContext, c: TrainCase, reps: number, log: (s: string) => void, profile: boolean,
): Promise<TrainCaseResult> {
  const loaded = await syntheticGpt2(c);
  const { ids, labels } = randomBatch(c, 777);
  const model = await Gpt2LoraModel.create(ctx, loaded, {
    targetModules: TARGET_MODULES, r: c.R, scale: LORA_ALPHA / c.R, B: c.B, T: c.T, seed: 0,
  });
  const init = initialLora(model);
  model.setLoraWeights(init);
  const tfm = new TfGpt2Lora(loaded, c, model.table, init, ids, labels, `train${c.name}`);
  try {
    // Same weights, same batch: the first loss and gradients of both engines, before either updates.
    const engineLoss0 = (await model.step(ids, labels)).loss;
    const eg = await model.readGrads();
    const { value, grads } = tf.variableGrads(tfm.loss, tfm.vars);
    const tfjsLoss0 = (await value.data())[0];
    let gradMax = 0, gradDiff = 0;
    for (const v of tfm.vars) {
      const tg = (await grads[v.name].data()) as Float32Array;
      const e = eg.get(v.name.slice(v.name.indexOf('/') + 1))!;
      for (let i = 0; i < tg.length; i++) {
        gradMax = Math.max(gradMax, Math.abs(tg[i]));
        gradDiff = Math.max(gradDiff, Math.abs(tg[i] - e[i]));
      }
    }
    tf.dispose([value, ...Object.values(grads)]);
    log(`${c.name}: first-step loss engine ${engineLoss0.toFixed(6)}, tfjs ${tfjsLoss0.toFixed(6)}, ` +
      `max|Δgrad| ${gradDiff.toExponential(1)} (max|grad| ${gradMax.toExponential(1)})`);

    const { times, engineMs, tfjsMs, info } = await timeSteps(ctx, c.name, model, { ids, labels }, LR, () => tfm.step(), reps, log);
    const tfjsKernels = info.kernels.length;
    const tokens = c.B * c.T;
    const prof = profile ? await profileEngine(ctx, model, Math.max(1, Math.min(reps, 3))) : undefined;
    const r: TrainCaseResult = {
      name: c.name, C: c.C, L: c.L, NH: c.NH, B: c.B, T: c.T, V: c.V, R: c.R, tokens,
      trainable: model.table.reduce((s, e) => s + e.numel, 0),
      engineMs, tfjsMs, engineTokensPerS: tokens / (engineMs / 1000), tfjsTokensPerS: tokens / (tfjsMs / 1000),
      ratio: tfjsMs / engineMs, engineLoss0, tfjsLoss0, lossDiff: Math.abs(engineLoss0 - tfjsLoss0),
      gradMaxAbsDiff: gradDiff, gradMaxAbs: gradMax,
      engineDispatches: model.profileLaunches().length, tfjsKernels,
      engineRepsMs: times[0], tfjsRepsMs: times[1], profile: prof,
    };
    log(`${c.name}: engine ${r.engineTokensPerS.toFixed(0)} tok/s (${engineMs.toFixed(0)} ms), ` +
      `tfjs ${r.tfjsTokensPerS.toFixed(0)} tok/s (${tfjsMs.toFixed(0)} ms), ${r.ratio.toFixed(2)}×`);
    return r;
  } finally {
    tfm.dispose();
    model.destroy();
  }
}
