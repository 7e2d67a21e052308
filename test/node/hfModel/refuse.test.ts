// Table-driven refusals: each mismatch kind gives a typed error whose message names the file and the
// FIRST mismatching tensor or key (docs/failure-scenarios.md#clear-errors; A5, A7, A9, A11, A12 there).
import { describe, expect, it } from 'vitest';
import { loadModelDir, ModelDirError, type ModelDirErrorCode, type ModelDirSource } from '../../../src/io/hfModel';
import { SafetensorsError } from '../../../src/io/safetensors';
import {
  type Files, folder, G, gpt2Config, gpt2Names, gpt2Tensors, type GptOptions, rawEntries, rawSafetensors, source, tensor,
  type Tensors, VT, vitConfig, vitTensors, type VitOptions,
} from './fixtures';

const INDEX = 'model.safetensors.index.json';
const WEIGHTS = 'model.safetensors';

function gpt(o: GptOptions = {}, edit: (t: Tensors) => void = () => {}, config: object = gpt2Config(), shards = 0): Files {
  const t = gpt2Tensors(o);
  edit(t);
  return folder(config, t, shards);
}

function vit(o: VitOptions = {}, edit: (t: Tensors) => void = () => {}, config: object = vitConfig(), shards = 0): Files {
  const t = vitTensors(o);
  edit(t);
  return folder(config, t, shards);
}

/** The shard that the index of `files` maps `tensor` to. */
function shardOf(files: Files, name: string): string {
  return JSON.parse(files.get(INDEX) as string).weight_map[name];
}

interface Case {
  what: string;
  files: () => Files;
  code: ModelDirErrorCode;
  /** Expected file, or a function of the folder (shards). */
  file: string | ((files: Files) => string);
  tensor?: string;
  key?: string;
  /** Extra text the message must contain. */
  hint?: string;
}

const del = (name: string) => (t: Tensors) => t.delete(name);
const set = (name: string, shape: number[]) => (t: Tensors) => t.set(name, tensor(shape));

const CASES: Case[] = [
  // — GPT-2 —
  { what: 'missing parameter', files: () => gpt({}, del('h.1.mlp.c_fc.bias')), code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'h.1.mlp.c_fc.bias' },
  {
    what: 'missing parameter in a sharded, prefixed checkpoint names the index',
    files: () => gpt({ prefix: true }, del('transformer.h.0.ln_2.weight'), gpt2Config(), 3),
    code: 'MODEL_TENSOR_MISSING', file: INDEX, tensor: 'transformer.h.0.ln_2.weight',
  },
  {
    what: 'wrong shape names the shard that holds it',
    files: () => gpt({ prefix: true }, set('transformer.h.0.attn.c_attn.weight', [G.C, 143]), gpt2Config(), 2),
    code: 'MODEL_TENSOR_SHAPE', file: (f) => shardOf(f, 'transformer.h.0.attn.c_attn.weight'), tensor: 'transformer.h.0.attn.c_attn.weight', hint: '[48, 144]',
  },
  {
    what: 'Conv1D stored as nn.Linear [out, in]',
    files: () => gpt({}, set('h.0.mlp.c_fc.weight', [G.I, G.C])), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'h.0.mlp.c_fc.weight',
  },
  { what: 'n_positions differs from wpe', files: () => gpt({}, undefined, gpt2Config({ n_positions: 16 })), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'wpe.weight' },
  { what: 'vocab_size differs: first mismatch is wte', files: () => gpt({}, undefined, gpt2Config({ vocab_size: 100 })), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'wte.weight' },
  { what: 'extra parameter', files: () => gpt({}, set('h.0.attn.q_proj.weight', [G.C, G.C])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'h.0.attn.q_proj.weight' },
  { what: 'another head (score.weight)', files: () => gpt({ buffers: true }, set('score.weight', [2, G.C])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'score.weight' },
  {
    what: 'more layers than n_layer: the first extra tensor by name',
    files: () => gpt({}, (t) => gpt2Names(3).forEach(([n, s]) => t.has(n) || t.set(n, tensor(s)))),
    code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'h.2.attn.c_attn.bias',
  },
  { what: 'attn.bias buffer of a layer past n_layer', files: () => gpt({ buffers: true }, set('h.5.attn.bias', [1, 1, G.NP, G.NP])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'h.5.attn.bias' },
  { what: 'bare key next to prefixed ones', files: () => gpt({ prefix: true }, set('wte.weight', [G.V, G.C])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'wte.weight' },
  {
    what: 'unknown prefix: missing wte, with a hint at the stray keys',
    files: () => gpt({}, (t) => [...t].forEach(([n, x]) => t.delete(n) && t.set(`model.${n}`, x))),
    code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'wte.weight', hint: '"model.h.0.attn.c_attn.bias"',
  },
  { what: 'tied head that differs from wte', files: () => gpt({ lmHead: 'different' }), code: 'MODEL_TIED_HEAD', file: WEIGHTS, tensor: 'lm_head.weight' },
  { what: 'tied head of the wrong shape', files: () => gpt({}, set('lm_head.weight', [G.V - 1, G.C])), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'lm_head.weight' },
  {
    what: 'untied config without lm_head',
    files: () => gpt({ prefix: true }, undefined, gpt2Config({ tie_word_embeddings: false })), code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'lm_head.weight',
  },
  { what: 'unknown model_type', files: () => gpt({}, undefined, { model_type: 'bert' }), code: 'MODEL_CONFIG', file: 'config.json', key: 'model_type' },
  // — ViT —
  {
    what: 'classifier inconsistent with id2label', files: () => vit({ prefix: true, classifier: 4 }),
    code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'classifier.weight', hint: '[5, 48]',
  },
  { what: 'classifier without bias', files: () => vit({}, del('classifier.bias')), code: 'MODEL_TENSOR_MISSING', file: WEIGHTS, tensor: 'classifier.bias' },
  {
    what: 'missing query weight (prefixed, sharded)',
    files: () => vit({ prefix: true }, del('vit.encoder.layer.1.attention.attention.query.weight'), vitConfig(), 2),
    code: 'MODEL_TENSOR_MISSING', file: INDEX, tensor: 'vit.encoder.layer.1.attention.attention.query.weight',
  },
  {
    what: 'patch projection for 1 channel',
    files: () => vit({}, set('embeddings.patch_embeddings.projection.weight', [VT.C, 1, 4, 4])),
    code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'embeddings.patch_embeddings.projection.weight',
  },
  {
    what: 'image_size 16 but position embeddings for 8',
    files: () => vit({}, undefined, vitConfig({ image_size: 16 })), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'embeddings.position_embeddings', hint: '[1, 17, 48]',
  },
  {
    what: 'qkv biases present but qkv_bias false',
    files: () => vit({}, undefined, vitConfig({ qkv_bias: false })), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'encoder.layer.0.attention.attention.key.bias',
  },
  { what: 'pooler of the wrong shape', files: () => vit({ classifier: false }, set('pooler.dense.weight', [VT.C, 7])), code: 'MODEL_TENSOR_SHAPE', file: WEIGHTS, tensor: 'pooler.dense.weight' },
  { what: 'masked-image-modeling mask_token', files: () => vit({ prefix: true }, set('vit.embeddings.mask_token', [1, 1, VT.C])), code: 'MODEL_TENSOR_UNEXPECTED', file: WEIGHTS, tensor: 'vit.embeddings.mask_token' },
  {
    what: 'preprocessor size ≠ image_size',
    files: () => vit({}, (t) => t).set('preprocessor_config.json', '{"size": 224}'),
    code: 'MODEL_PREPROCESSOR', file: 'preprocessor_config.json', key: 'size',
  },
  {
    what: 'preprocessor mean for 2 channels',
    files: () => vit().set('preprocessor_config.json', '{"size": {"height": 8, "width": 8}, "image_mean": [0.5, 0.5]}'),
    code: 'MODEL_PREPROCESSOR', file: 'preprocessor_config.json', key: 'image_mean',
  },
  {
    what: 'preprocessor_config.json not JSON',
    files: () => vit().set('preprocessor_config.json', '{"size": 8,}'), code: 'MODEL_PREPROCESSOR', file: 'preprocessor_config.json',
  },
  // — folder —
  { what: 'no config.json', files: () => without(gpt(), 'config.json'), code: 'MODEL_CONFIG', file: 'config.json' },
  {
    what: 'pickle weights only', files: () => without(gpt(), WEIGHTS).set('pytorch_model.bin', new Uint8Array(8)),
    code: 'MODEL_FORMAT', file: 'pytorch_model.bin', hint: 'only safetensors',
  },
  { what: 'no weights at all', files: () => without(gpt(), WEIGHTS), code: 'MODEL_WEIGHTS_MISSING', file: WEIGHTS },
  {
    what: 'unsupported dtype (F64) of a parameter',
    files: () => {
      const entries = rawEntries(gpt2Tensors());
      const ln = entries.find((e) => e.name === 'ln_f.bias');
      if (ln) Object.assign(ln, { dtype: 'F64', bytes: new Uint8Array(8 * G.C) });
      return folder(gpt2Config(), new Map()).set(WEIGHTS, rawSafetensors(entries));
    },
    code: 'MODEL_DTYPE_UNSUPPORTED', file: WEIGHTS, tensor: 'ln_f.bias', hint: 'F64',
  },
];

function without(files: Files, name: string): Files {
  files.delete(name);
  return files;
}

async function refusal(src: ModelDirSource): Promise<unknown> {
  try {
    await loadModelDir(src);
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal, the folder loaded');
}

describe('model folder refusals', () => {
  it.each(CASES.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const files = c.files();
    const e = await refusal(source(files));
    if (!(e instanceof ModelDirError)) throw e;
    const file = typeof c.file === 'string' ? c.file : c.file(files);
    expect(e.code, e.message).toBe(c.code);
    expect(e.file).toBe(file);
    expect(e.tensor).toBe(c.tensor);
    if (c.key !== undefined) expect(e.key).toBe(c.key);
    expect(e.message).toContain(`${c.code} in ${file}`);
    if (c.tensor !== undefined) expect(e.message).toContain(`"${c.tensor}"`);
    if (c.key !== undefined) expect(e.message).toContain(`"${c.key}"`);
    if (c.hint !== undefined) expect(e.message).toContain(c.hint);
  });

  it('a file that changed on disk (NotReadableError) is MODEL_FILE_CHANGED; other read failures MODEL_READ', async () => {
    const files = gpt();
    for (const [name, code] of [['NotReadableError', 'MODEL_FILE_CHANGED'], ['Error', 'MODEL_READ']] as const) {
      const src: ModelDirSource = {
        names: [...files.keys()],
        read: async (n) => {
          if (n !== WEIGHTS) return source(files).read(n);
          throw Object.assign(new Error('gone'), { name });
        },
      };
      const e = await refusal(src);
      expect(e).toBeInstanceOf(ModelDirError);
      expect((e as ModelDirError).code).toBe(code);
      expect((e as ModelDirError).file).toBe(WEIGHTS);
    }
  });

  it('container problems stay SafetensorsErrors naming the file: shard missing from the folder', async () => {
    const files = gpt({}, undefined, gpt2Config(), 2);
    const shard = shardOf(files, 'wte.weight');
    files.delete(shard);
    const e = await refusal(source(files));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe('MODEL_SHARD');
    expect((e as SafetensorsError).message).toContain(shard);
  });

  it('a truncated model.safetensors is refused by the strict reader', async () => {
    const files = gpt();
    const bytes = files.get(WEIGHTS) as Uint8Array;
    files.set(WEIGHTS, bytes.subarray(0, bytes.length - 1));
    const e = await refusal(source(files));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe('ST_COVERAGE');
  });

  it('shard names from the index never reach read() unless they are files of the folder', async () => {
    const files = gpt({}, undefined, gpt2Config(), 2);
    const index = JSON.parse(files.get(INDEX) as string);
    index.weight_map['wte.weight'] = 'elsewhere.safetensors';
    files.set(INDEX, JSON.stringify(index));
    const asked: string[] = [];
    const inner = source(files);
    const e = await refusal({ names: inner.names, read: (n) => (asked.push(n), inner.read(n)) });
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(asked).not.toContain('elsewhere.safetensors');
  });
});
