// Tiny synthetic GPT-2 and ViT checkpoints with odd sizes, written by the canonical safetensors writer.
// Names and shapes are written out here from docs/formats.md#gpt2 / #vit and the transformers model classes, independently of src/io/hfModel/layout.ts,
// so a wrong layout in the loader cannot confirm itself.
import { type F32Tensor, shardFileName, writeSafetensors } from '../../../src/io/safetensors';
import { sourceFromMap, type ModelDirSource } from '../../../src/io/hfModel';
import { uniformF32 } from '../../helpers/random';

// GPT-2: C 48, NH 3 (HS 16), V 101, L 2, n_positions 13, I = 4C = 192.
export const G = { C: 48, NH: 3, V: 101, L: 2, NP: 13, I: 192 };
// ViT: C 48, NH 3, L 2, patch 4, image 8 (P = 4), 3 channels, 5 labels, I 100.
export const VT = { C: 48, NH: 3, L: 2, patch: 4, image: 8, P: 4, channels: 3, labels: 5, I: 100 };

export const gpt2Config = (over: Record<string, unknown> = {}) => ({
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  n_embd: G.C,
  n_head: G.NH,
  n_layer: G.L,
  n_positions: G.NP,
  n_ctx: G.NP,
  vocab_size: G.V,
  n_inner: null,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  bos_token_id: 100,
  eos_token_id: 100,
  task_specific_params: { 'text-generation': { do_sample: true, max_length: 13 } },
  torch_dtype: 'float32',
  ...over,
});

export const LABELS = ['tench', 'goldfish', 'shark', 'crane', 'crane'];

export const vitConfig = (over: Record<string, unknown> = {}) => ({
  architectures: ['ViTForImageClassification'],
  model_type: 'vit',
  hidden_size: VT.C,
  num_hidden_layers: VT.L,
  num_attention_heads: VT.NH,
  intermediate_size: VT.I,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  image_size: VT.image,
  patch_size: VT.patch,
  num_channels: VT.channels,
  qkv_bias: true,
  id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
  // "crane" twice, as ImageNet: label2id keeps the later id (Python dict semantics).
  label2id: { tench: 0, goldfish: 1, shark: 2, crane: 4 },
  ...over,
});

/** GPT-2 parameters, bare names, model order (docs/formats.md#gpt2). */
export function gpt2Names(L = G.L): [string, number[]][] {
  const { C, V, NP, I } = G;
  const out: [string, number[]][] = [['wte.weight', [V, C]], ['wpe.weight', [NP, C]]];
  for (let i = 0; i < L; i++) {
    out.push(
      [`h.${i}.ln_1.weight`, [C]], [`h.${i}.ln_1.bias`, [C]],
      [`h.${i}.attn.c_attn.weight`, [C, 3 * C]], [`h.${i}.attn.c_attn.bias`, [3 * C]],
      [`h.${i}.attn.c_proj.weight`, [C, C]], [`h.${i}.attn.c_proj.bias`, [C]],
      [`h.${i}.ln_2.weight`, [C]], [`h.${i}.ln_2.bias`, [C]],
      [`h.${i}.mlp.c_fc.weight`, [C, I]], [`h.${i}.mlp.c_fc.bias`, [I]],
      [`h.${i}.mlp.c_proj.weight`, [I, C]], [`h.${i}.mlp.c_proj.bias`, [C]],
    );
  }
  out.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return out;
}

/** ViT backbone parameters, bare (ViTModel) names (docs/formats.md#vit). */
export function vitNames(qkvBias = true): [string, number[]][] {
  const { C, P, I, channels, patch } = VT;
  const out: [string, number[]][] = [
    ['embeddings.cls_token', [1, 1, C]],
    ['embeddings.position_embeddings', [1, P + 1, C]],
    ['embeddings.patch_embeddings.projection.weight', [C, channels, patch, patch]],
    ['embeddings.patch_embeddings.projection.bias', [C]],
  ];
  for (let i = 0; i < VT.L; i++) {
    const l = `encoder.layer.${i}.`;
    out.push([`${l}layernorm_before.weight`, [C]], [`${l}layernorm_before.bias`, [C]]);
    for (const q of ['query', 'key', 'value']) {
      out.push([`${l}attention.attention.${q}.weight`, [C, C]]);
      if (qkvBias) out.push([`${l}attention.attention.${q}.bias`, [C]]);
    }
    out.push(
      [`${l}attention.output.dense.weight`, [C, C]], [`${l}attention.output.dense.bias`, [C]],
      [`${l}layernorm_after.weight`, [C]], [`${l}layernorm_after.bias`, [C]],
      [`${l}intermediate.dense.weight`, [I, C]], [`${l}intermediate.dense.bias`, [I]],
      [`${l}output.dense.weight`, [C, I]], [`${l}output.dense.bias`, [C]],
    );
  }
  out.push(['layernorm.weight', [C]], ['layernorm.bias', [C]]);
  return out;
}

let seed = 1;
/** A tensor of seeded values (each call a new seed, so no two tensors are equal by accident). */
export function tensor(shape: number[]): F32Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: uniformF32(n, seed++) };
}

export type Tensors = Map<string, F32Tensor>;

export interface GptOptions {
  prefix?: boolean;
  lmHead?: 'none' | 'equal' | 'different';
  buffers?: boolean;
}

export function gpt2Tensors(o: GptOptions = {}): Tensors {
  const p = o.prefix ? 'transformer.' : '';
  const t: Tensors = new Map(gpt2Names().map(([n, s]) => [p + n, tensor(s)]));
  const wte = t.get(`${p}wte.weight`) as F32Tensor;
  if (o.lmHead === 'equal') t.set('lm_head.weight', { shape: wte.shape, data: wte.data.slice() });
  if (o.lmHead === 'different') t.set('lm_head.weight', tensor([G.V, G.C]));
  if (o.buffers) {
    for (let i = 0; i < G.L; i++) {
      t.set(`${p}h.${i}.attn.bias`, causalMask(G.NP));
      t.set(`${p}h.${i}.attn.masked_bias`, { shape: [], data: Float32Array.of(-1e4) });
    }
  }
  return t;
}

function causalMask(n: number): F32Tensor {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) data[i * n + j] = 1;
  return { shape: [1, 1, n, n], data };
}

export interface VitOptions {
  prefix?: boolean;
  classifier?: number | false;
  pooler?: boolean;
  qkvBias?: boolean;
}

export function vitTensors(o: VitOptions = {}): Tensors {
  const p = o.prefix ? 'vit.' : '';
  const t: Tensors = new Map(vitNames(o.qkvBias ?? true).map(([n, s]) => [p + n, tensor(s)]));
  if (o.pooler) {
    t.set(`${p}pooler.dense.weight`, tensor([VT.C, VT.C]));
    t.set(`${p}pooler.dense.bias`, tensor([VT.C]));
  }
  const k = o.classifier === undefined ? VT.labels : o.classifier;
  if (k !== false) {
    t.set('classifier.weight', tensor([k, VT.C]));
    t.set('classifier.bias', tensor([k]));
  }
  return t;
}

export type Files = Map<string, Uint8Array | string>;

/** config.json + model.safetensors, or `shards` shards (contiguous runs of the tensor list) + index. */
export function folder(config: object, tensors: Tensors, shards = 0): Files {
  const files: Files = new Map([['config.json', JSON.stringify(config, null, 2)]]);
  if (shards === 0) {
    files.set('model.safetensors', writeSafetensors(tensors));
    return files;
  }
  const list = [...tensors];
  const per = Math.ceil(list.length / shards);
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let s = 0; s < shards; s++) {
    const part = list.slice(s * per, (s + 1) * per);
    const name = shardFileName(s + 1, shards);
    files.set(name, writeSafetensors(part));
    for (const [n, x] of part) {
      weightMap[n] = name;
      total += x.data.byteLength;
    }
  }
  files.set('model.safetensors.index.json', JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
  return files;
}

export const source = (files: Files): ModelDirSource => sourceFromMap(files);

/**
 * A safetensors file with arbitrary dtypes (the canonical writer writes F32 only). Entries are laid out
 * in the given order; the header is space-padded to a multiple of 8.
 */
export function rawSafetensors(entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[]): Uint8Array {
  let offset = 0;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(text, 8);
  let at = 8 + n;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

/** F32 tensors of `t` as raw entries (little-endian host assumed, as everywhere in the test suite). */
export function rawEntries(t: Tensors): { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[] {
  return [...t].map(([name, x]) => ({ name, dtype: 'F32', shape: [...x.shape], bytes: new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength).slice() }));
}
