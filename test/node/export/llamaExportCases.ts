// The committed Llama-family export cases of test/fixtures/llama_io/ (docs/formats.md#llama-export): for each,
// a base checkpoint built here, a synthetic adapter, and what the app exports from them — the merged
// folder and the PEFT adapter folder — through the same code as a finished run (src/train/merge.ts
// mergeSingle or src/train/cascade.ts, then src/train/export.ts buildExportFiles).
// test/fixtures/check_llama_export.py then checks in float64 PyTorch that logits(merged) equal
// logits(base + adapter) for each case; llamaExport.test.ts checks that the committed files are exactly
// what this code writes today.
// Everything is seeded by explicit numbers, so the bytes are the same on every run.
import { Cascade } from '../../../src/train/cascade';
import { resolveConfig } from '../../../src/train/config';
import { buildExportFiles } from '../../../src/train/export';
import { mergeSingle } from '../../../src/train/merge';
import { loraKeys, targetedModules } from '../../../src/train/modules';
import type { TrainResult } from '../../../src/train/trainer';
import { type LoadedLlama, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import type { F32Tensor } from '../../../src/io/safetensors';
import { uniformF32 } from '../../helpers/random';
import { type Dtype, type Family, llamaConfig, llamaFolder, llamaNames, type LlamaShape, shapeOf } from '../hfModel/llamaFixtures';

export const CASE_NAMES = ['qwen3_lora', 'llama_dora', 'qwen2_cascade'] as const;
export type CaseName = (typeof CASE_NAMES)[number];

interface CaseSpec {
  family: Family;
  config: Record<string, unknown>;
  shape: Partial<LlamaShape>;
  dtype: Dtype;
  shards: number;
  /** Old-checkpoint extras: rotary inv_freq buffers, a stored tied lm_head. */
  invFreq?: boolean;
  storedTiedHead?: boolean;
  method: 'lora' | 'dora' | 'cola';
  targets: string[] | string;
  r: number;
  alpha: number;
  rslora?: boolean;
  seed: number;
}

const SPECS: Record<CaseName, CaseSpec> = {
  // Qwen3: head_dim 10 ≠ C/NH, q/k norms, tied head, MQA (NKV 1), BF16 in two shards; LoRA on all seven.
  qwen3_lora: { family: 'qwen3', config: {}, shape: {}, dtype: 'BF16', shards: 2, method: 'lora', targets: 'all-linear', r: 3, alpha: 6, seed: 11 },
  // Llama: untied, GQA 3:1, every bias, llama3 rope scaling, F16, inv_freq buffers; DoRA + rsLoRA.
  llama_dora: {
    family: 'llama',
    config: {
      attention_bias: true, mlp_bias: true, rope_theta: 500000.0,
      rope_scaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 16 },
    },
    shape: { qkvBias: true, oBias: true, mlpBias: true },
    dtype: 'F16', shards: 0, invFreq: true, method: 'dora', targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'down_proj'], r: 2, alpha: 3, rslora: true, seed: 22,
  },
  // Qwen2: q/k/v biases, NKV 3 (= NH), tied with a stored lm_head equal to the embedding, F32; a COLA cascade
  // of 3 experts (α 1, lookahead) exported as one rank-3·r LoRA.
  qwen2_cascade: {
    family: 'qwen2', config: { num_key_value_heads: 3 }, shape: { NKV: 3 }, dtype: 'F32', shards: 0, storedTiedHead: true,
    method: 'cola', targets: ['q_proj', 'v_proj', 'up_proj'], r: 2, alpha: 4, seed: 33,
  },
};

/** Base values on a grid of 1/256 in [−0.25, 0.25]; norms 1 ± 0.25 on a grid of 1/128 (all exact in F16 and BF16). */
function baseTensors(s: LlamaShape, seed: number): Map<string, F32Tensor> {
  const out = new Map<string, F32Tensor>();
  let k = seed * 1000;
  for (const [name, shape] of llamaNames(s)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith('norm.weight');
    const data = uniformF32(n, k++, -1, 1).map((x) => (norm ? 1 + Math.round(x * 32) / 128 : Math.round(x * 64) / 256));
    out.set(name, { shape, data });
  }
  return out;
}

/**
 * An old checkpoint's inv_freq buffer [HS/2]: the engine recomputes the frequencies from the config, so the
 * values only have to survive export; powers of two keep them exact in F16.
 */
function invFreqBuffer(HS: number): F32Tensor {
  return { shape: [HS / 2], data: Float32Array.from({ length: HS / 2 }, (_, j) => 2 ** (-3 * j)) };
}

export interface BuiltCase {
  /** Relative path under test/fixtures/llama_io/<case>/ → bytes. */
  files: Map<string, Uint8Array>;
  loaded: LoadedLlama;
  result: Pick<TrainResult, 'merged' | 'adapter' | 'adapterNote' | 'head' | 'iterations'>;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export async function buildCase(name: CaseName): Promise<BuiltCase> {
  const c = SPECS[name];
  const shape = shapeOf(c.family, c.shape);
  const config = llamaConfig(c.family, c.config);
  const tensors = baseTensors(shape, c.seed);
  if (c.invFreq) for (let l = 0; l < shape.L; l++) tensors.set(`model.layers.${l}.self_attn.rotary_emb.inv_freq`, invFreqBuffer(shape.HS));
  if (c.storedTiedHead) {
    const emb = tensors.get('model.embed_tokens.weight') as F32Tensor;
    tensors.set('lm_head.weight', { shape: [...emb.shape], data: emb.data.slice() });
  }
  const baseFiles = llamaFolder(config, tensors, c.dtype, c.shards);
  const loaded = await loadModelDir(sourceFromMap(baseFiles));
  if (loaded.kind !== 'llama') throw new Error(`${name}: not a llama`);

  const targets = targetedModules(loaded, c.targets);
  const W0 = new Map(targets.map((m) => [m.path, (loaded.tensors.get(m.weight) as F32Tensor).data.slice()]));
  let seed = c.seed * 1000 + 500;
  const expert = (m: (typeof targets)[number], dora: boolean) => ({
    A: uniformF32(c.r * m.IN, seed++, -0.4, 0.4),
    B: uniformF32(m.OUT * c.r, seed++, -0.3, 0.3),
    ...(dora ? { m: rowNorms(W0.get(m.path) as Float32Array, m.IN).map((v) => v * (1 + 0.2 * Math.sin(seed++))) } : {}),
  });
  const scale = c.rslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
  let result: BuiltCase['result'];
  if (c.method === 'cola') {
    const cascade = new Cascade(targets, targets, W0, { alpha: 1, slow: 'lookahead', noise: null }, c.r, scale, false, c.seed);
    const backbone = { setBaseWeight: () => {} };
    const iterations = [];
    for (let t = 0; t < 3; t++) {
      cascade.beginIteration(backbone);
      iterations.push(cascade.endIteration(backbone, new Map(targets.map((m) => [m.path, expert(m, false)]))));
    }
    const adapterTensors = new Map<string, { data: Float32Array; shape: number[] }>();
    let r = 0;
    for (const m of targets) {
      const st = cascade.stackedAdapter(m.path, m);
      r = st.r;
      const k = loraKeys(m.path);
      adapterTensors.set(k.A, { data: st.A, shape: [st.r, m.IN] });
      adapterTensors.set(k.B, { data: st.B, shape: [m.OUT, st.r] });
    }
    result = { merged: cascade.mergedWeights(), adapter: { tensors: adapterTensors, r, loraAlpha: r, useRslora: false, scale: 1, useDora: false }, adapterNote: null, head: new Map(), iterations };
  } else {
    const dora = c.method === 'dora';
    const weights = new Map<string, Float32Array>();
    for (const m of targets) {
      const e = expert(m, dora);
      const k = loraKeys(m.path);
      weights.set(k.A, e.A);
      weights.set(k.B, e.B);
      if (e.m) weights.set(k.m, e.m);
    }
    const { merged, tensors: t, report } = mergeSingle(weights, targets, W0, c.r, scale, dora);
    result = { merged, adapter: { tensors: t, r: c.r, loraAlpha: c.alpha, useRslora: !!c.rslora, scale, useDora: dora }, adapterNote: null, head: new Map(), iterations: [report] };
  }
  const training = resolveConfig({
    method: c.method, targetModules: c.targets, r: c.r, loraAlpha: c.alpha, useRslora: !!c.rslora, loraDropout: 0, seed: c.seed,
  }, 'llama-default');
  const out = buildExportFiles({
    loaded, companions: new Map([['config.json', baseFiles.get('config.json') as string]]), baseName: `lorasc-test/${name}`, result, config: training,
  });
  const files = new Map<string, Uint8Array>();
  for (const [f, v] of baseFiles) files.set(`base/${f}`, typeof v === 'string' ? utf8(v) : v);
  for (const [f, v] of out.merged) files.set(`merged/${f}`, v);
  if (!out.adapter) throw new Error(`${name}: no adapter exported (${out.adapterNote})`);
  for (const [f, v] of out.adapter) if (f !== 'training_args.json') files.set(`adapter/${f}`, v);
  return { files, loaded, result };
}

/** ‖W[o, :]‖₂ per output row of an nn.Linear weight [OUT, IN]. */
export function rowNorms(W: Float32Array, IN: number): Float32Array {
  const out = new Float32Array(W.length / IN);
  for (let o = 0; o < out.length; o++) {
    let s = 0;
    for (let i = 0; i < IN; i++) s += W[o * IN + i] ** 2;
    out[o] = Math.sqrt(s);
  }
  return out;
}
