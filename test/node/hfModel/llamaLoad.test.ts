// Loading Llama-family folders (docs/formats.md#llama-tensors): every family, dtype, tied/untied head,
// single file or sharded, `model.` prefix or bare; canonical names = HF key minus `model.`; values exact;
// every unknown / missing / misshaped tensor refused naming the tensor and the file.
import { describe, expect, it } from 'vitest';
import { type LoadedLlama, loadModelDir, ModelDirError, type ModelDirErrorCode } from '../../../src/io/hfModel';
import { type Files, source } from './fixtures';
import {
  type Dtype, type Family, LL, llamaConfig, llamaFolder, llamaNames, llamaTensors, type LlamaShape, type LlamaTensors, shapeOf, sixtyFourths,
} from './llamaFixtures';

const INDEX = 'model.safetensors.index.json';
const WEIGHTS = 'model.safetensors';

async function loadLlama(files: Files): Promise<LoadedLlama> {
  const m = await loadModelDir(source(files));
  if (m.kind !== 'llama') throw new Error(`loaded a ${m.kind}`);
  return m;
}

function expectExact(m: LoadedLlama, t: LlamaTensors, prefix: string): void {
  for (const [key, x] of t) {
    const name = key.startsWith(prefix) ? key.slice(prefix.length) : key;
    const got = m.tensors.get(name);
    expect(got, name).toBeDefined();
    expect(got?.shape).toEqual(x.shape);
    expect(m.originalKeys.get(name)).toBe(key);
    expect(Array.from(got?.data ?? []), name).toEqual(Array.from(x.data));
  }
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface Variant { family: Family; dtype: Dtype; shards: number; tied: boolean }
const VARIANTS: Variant[] = [
  { family: 'llama', dtype: 'F32', shards: 0, tied: false },
  { family: 'llama', dtype: 'BF16', shards: 3, tied: true },
  { family: 'mistral', dtype: 'F16', shards: 0, tied: false },
  { family: 'mistral', dtype: 'BF16', shards: 2, tied: true },
  { family: 'qwen2', dtype: 'BF16', shards: 0, tied: true },
  { family: 'qwen2', dtype: 'F32', shards: 2, tied: false },
  { family: 'qwen3', dtype: 'BF16', shards: 0, tied: true },
  { family: 'qwen3', dtype: 'F16', shards: 4, tied: false },
];

describe('Llama-family checkpoints load', () => {
  it.each(VARIANTS)('$family $dtype, shards $shards, tied $tied', async ({ family, dtype, shards, tied }) => {
    const s = shapeOf(family, { tied });
    const t = llamaTensors(s);
    const m = await loadLlama(llamaFolder(llamaConfig(family, { tie_word_embeddings: tied }), t, dtype, shards));
    expect(m.config.model_type).toBe(family);
    expect(m.tied).toBe(tied);
    expect(m.prefix).toBe('model.');
    expect(m.tensors.size).toBe(t.size);
    expect(m.tensors.has('lm_head.weight')).toBe(!tied);
    expect(m.tensors.get('embed_tokens.weight')?.dtype).toBe(dtype);
    expectExact(m, t, 'model.');
    expect(m.passthrough.size).toBe(0);
    expect(m.weightFiles).toHaveLength(Math.max(1, shards));
    expect(m.memory.parameters).toBe([...t.values()].reduce((n, x) => n + numel(x.shape), 0));
    expect(m.memory.f32Bytes).toBe(4 * m.memory.parameters);
  });

  it('qwen3: head_dim 10 ≠ C/NH, q/k norms of [HS]; q_proj [NH·HS, C], k/v [NKV·HS, C], o_proj [C, NH·HS]', async () => {
    const s = shapeOf('qwen3');
    const m = await loadLlama(llamaFolder(llamaConfig('qwen3'), llamaTensors(s)));
    expect(m.tensors.get('layers.1.self_attn.q_norm.weight')?.shape).toEqual([10]);
    expect(m.tensors.get('layers.1.self_attn.q_proj.weight')?.shape).toEqual([30, LL.C]);
    expect(m.tensors.get('layers.1.self_attn.k_proj.weight')?.shape).toEqual([10, LL.C]);
    expect(m.tensors.get('layers.1.self_attn.o_proj.weight')?.shape).toEqual([LL.C, 30]);
  });

  it('llama with attention_bias and mlp_bias has all seven biases; GQA 3:3 (NKV = NH)', async () => {
    const s = shapeOf('llama', { NKV: 3, qkvBias: true, oBias: true, mlpBias: true });
    const t = llamaTensors(s);
    const m = await loadLlama(llamaFolder(llamaConfig('llama', { attention_bias: true, mlp_bias: true, num_key_value_heads: 3 }), t));
    for (const b of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']) {
      expect(m.tensors.has(`layers.0.${b}.bias`), b).toBe(true);
    }
    expectExact(m, t, 'model.');
  });

  it('a bare LlamaModel-style file (no `model.` prefix) loads with prefix ""', async () => {
    const s = shapeOf('qwen2');
    const t = llamaTensors(s, '');
    const m = await loadLlama(llamaFolder(llamaConfig('qwen2'), t));
    expect(m.prefix).toBe('');
    expectExact(m, t, '');
  });

  it('a tied head stored equal to embed_tokens and old rotary inv_freq buffers are kept for export only', async () => {
    const s = shapeOf('llama', { tied: true });
    const t = llamaTensors(s);
    const emb = t.get('model.embed_tokens.weight');
    if (!emb) throw new Error('no embedding');
    t.set('lm_head.weight', { shape: [...emb.shape], data: emb.data.slice() });
    for (let l = 0; l < LL.L; l++) t.set(`model.layers.${l}.self_attn.rotary_emb.inv_freq`, sixtyFourths([4]));
    const m = await loadLlama(llamaFolder(llamaConfig('llama', { tie_word_embeddings: true }), t, 'F32', 2));
    expect(m.tied).toBe(true);
    expect(m.tensors.has('lm_head.weight')).toBe(false);
    expect([...m.passthrough.keys()].sort()).toEqual(['lm_head.weight', 'model.layers.0.self_attn.rotary_emb.inv_freq', 'model.layers.1.self_attn.rotary_emb.inv_freq']);
  });
});

interface Case {
  what: string;
  files: () => Files;
  code: ModelDirErrorCode;
  file: string | ((f: Files) => string);
  tensor: string;
  hint?: string;
}

function folderWith(family: Family, edit: (t: LlamaTensors) => void, over: Record<string, unknown> = {}, shards = 0, s: Partial<LlamaShape> = {}): Files {
  const t = llamaTensors(shapeOf(family, s));
  edit(t);
  return llamaFolder(llamaConfig(family, over), t, 'BF16', shards);
}
const del = (name: string) => (t: LlamaTensors) => t.delete(name);
const put = (name: string, shape: number[]) => (t: LlamaTensors) => t.set(name, sixtyFourths(shape));
const shardOf = (f: Files, name: string) => JSON.parse(f.get(INDEX) as string).weight_map[name] as string;

const CASES: Case[] = [
  { what: 'qwen2 without its q/k/v biases', files: () => folderWith('qwen2', del('model.layers.0.self_attn.q_proj.bias')), code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'model.layers.0.self_attn.q_proj.bias' },
  { what: 'a q_proj bias when attention_bias is false', files: () => folderWith('llama', put('model.layers.1.self_attn.q_proj.bias', [24])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'model.layers.1.self_attn.q_proj.bias' },
  { what: 'qwen2 with an o_proj bias (Qwen2 never has one)', files: () => folderWith('qwen2', put('model.layers.0.self_attn.o_proj.bias', [24])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'model.layers.0.self_attn.o_proj.bias' },
  { what: 'qwen3 without k_norm (sharded: names the index)', files: () => folderWith('qwen3', del('model.layers.1.self_attn.k_norm.weight'), {}, 3), code: 'MODEL_TENSOR_MISSING', file: INDEX, tensor: 'model.layers.1.self_attn.k_norm.weight' },
  { what: 'q_norm in a llama checkpoint', files: () => folderWith('llama', put('model.layers.0.self_attn.q_norm.weight', [8])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'model.layers.0.self_attn.q_norm.weight' },
  {
    what: 'k_proj sized for NH heads while config says NKV 1 (names the shard)',
    files: () => folderWith('mistral', put('model.layers.0.self_attn.k_proj.weight', [24, 24]), {}, 2),
    code: 'MODEL_TENSOR_SHAPE', file: (f) => shardOf(f, 'model.layers.0.self_attn.k_proj.weight'), tensor: 'model.layers.0.self_attn.k_proj.weight', hint: '[8, 24]',
  },
  { what: 'a Conv1D-style transposed gate_proj', files: () => folderWith('llama', put('model.layers.1.mlp.gate_proj.weight', [24, 40])), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'model.layers.1.mlp.gate_proj.weight', hint: '[40, 24]' },
  { what: 'qwen3 weights for head_dim 8 under a head_dim 10 config', files: () => folderWith('qwen3', () => {}, {}, 0, { HS: 8 }), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'model.layers.0.self_attn.q_proj.weight' },
  { what: 'an untied config without lm_head', files: () => folderWith('llama', del('lm_head.weight')), code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'lm_head.weight' },
  { what: 'a tied config with a different lm_head', files: () => folderWith('qwen2', put('lm_head.weight', [37, 24])), code: 'MODEL_TIED_HEAD', file: WEIGHTS, tensor: 'lm_head.weight', hint: 'embed_tokens.weight' },
  { what: 'a layer past num_hidden_layers', files: () => folderWith('llama', put('model.layers.2.input_layernorm.weight', [24])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'model.layers.2.input_layernorm.weight' },
  { what: 'an inv_freq buffer of the wrong size', files: () => folderWith('llama', put('model.layers.0.self_attn.rotary_emb.inv_freq', [8])), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'model.layers.0.self_attn.rotary_emb.inv_freq', hint: '[4]' },
  { what: 'another head (score.weight of a SequenceClassification model)', files: () => folderWith('qwen2', put('score.weight', [2, 24])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'score.weight' },
  { what: 'a GPT-2-style prefix', files: () => folderWith('llama', (t) => [...t].forEach(([n, x]) => t.delete(n) && t.set(`transformer.${n}`, x))), code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'embed_tokens.weight', hint: 'transformer.' },
];

describe('Llama-family checkpoints are refused naming the first bad tensor and its file', () => {
  it.each(CASES)('$what', async (c) => {
    const files = c.files();
    const err = await loadModelDir(source(files)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelDirError);
    const e = err as ModelDirError;
    expect(e.code).toBe(c.code);
    expect(e.file).toBe(typeof c.file === 'string' ? c.file : c.file(files));
    expect(e.tensor).toBe(c.tensor);
    expect(e.message.split('\n')).toHaveLength(1);
    if (c.hint) expect(e.message).toContain(c.hint);
  });

  it('an unsupported dtype is refused naming the tensor', async () => {
    const files = llamaFolder(llamaConfig('llama'), new Map());
    const { rawSafetensors } = await import('./fixtures');
    const entries = llamaNames(shapeOf('llama')).map(([name, shape]) => ({ name, dtype: 'F32', shape, bytes: new Uint8Array(4 * numel(shape)) }));
    Object.assign(entries[3], { dtype: 'I8', bytes: new Uint8Array(numel(entries[3].shape)) });
    files.set(WEIGHTS, rawSafetensors(entries));
    const e = await loadModelDir(source(files)).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(ModelDirError);
    expect((e as ModelDirError).code).toBe('MODEL_DTYPE_UNSUPPORTED');
    expect((e as ModelDirError).tensor).toBe(entries[3].name);
  });
});
