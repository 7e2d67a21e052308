// config.json parsing (docs/formats.md#gpt2, #vit): transformers' defaults and aliases, and table-driven
// refusals that name config.json and the key.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelDirError } from '../../../src/io/hfModel';
import { parseModelConfig, type Gpt2Config, type VitConfig } from '../../../src/io/hfModel/config';
import { SHAPE_LETTERS } from '../../../src/model/glossary';
import { gpt2Config, LABELS, vitConfig } from './fixtures';

const gpt2 = (o: object) => parseModelConfig(JSON.stringify(o)) as Gpt2Config;
const vit = (o: object) => parseModelConfig(JSON.stringify(o)) as VitConfig;

function refusal(text: string): ModelDirError {
  try {
    parseModelConfig(text);
  } catch (e) {
    if (e instanceof ModelDirError) return e;
    throw e;
  }
  throw new Error('expected a ModelDirError, nothing was thrown');
}

describe('GPT-2 config', () => {
  it('takes transformers GPT2Config defaults for absent keys', () => {
    const c = gpt2({ model_type: 'gpt2' });
    expect(c).toMatchObject({
      vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, head_size: 64, n_inner: 3072,
      activation_function: 'gelu_new', resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1, layer_norm_epsilon: 1e-5,
      initializer_range: 0.02, bos_token_id: 50256, eos_token_id: 50256, pad_token_id: null, scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false, reorder_and_upcast_attn: false, tie_word_embeddings: true, architectures: null,
    });
  });

  it('reads the tiny config and carries unknown keys through raw', () => {
    const c = gpt2(gpt2Config());
    expect(c).toMatchObject({ n_embd: 48, n_head: 3, head_size: 16, n_layer: 2, n_positions: 13, vocab_size: 101, n_inner: 192 });
    expect(c.bos_token_id).toBe(100);
    expect(c.raw.has('task_specific_params')).toBe(true);
    expect(c.raw.get('torch_dtype')).toBe('float32');
  });

  it('resolves the attribute_map aliases', () => {
    const c = gpt2({ model_type: 'gpt2', hidden_size: 48, num_attention_heads: 3, num_hidden_layers: 2, max_position_embeddings: 13 });
    expect([c.n_embd, c.n_head, c.n_layer, c.n_positions]).toEqual([48, 3, 2, 13]);
    // Both spellings with one value are fine.
    expect(gpt2({ model_type: 'gpt2', n_embd: 48, hidden_size: 48, n_head: 3 }).n_embd).toBe(48);
  });

  it('n_inner null means 4·n_embd; an explicit n_inner is kept', () => {
    expect(gpt2({ model_type: 'gpt2', n_embd: 48, n_head: 3, n_inner: null }).n_inner).toBe(192);
    expect(gpt2({ model_type: 'gpt2', n_embd: 48, n_head: 3, n_inner: 100 }).n_inner).toBe(100);
  });

  it('token ids: null stays null, eos may be a list', () => {
    const c = gpt2({ model_type: 'gpt2', bos_token_id: null, eos_token_id: [1, 2], pad_token_id: 0 });
    expect([c.bos_token_id, c.eos_token_id, c.pad_token_id]).toEqual([null, [1, 2], 0]);
  });

  it('keys such as __proto__ are data, not prototypes (docs/failure-scenarios.md#b6)', () => {
    const c = parseModelConfig('{"model_type":"gpt2","__proto__":{"n_embd":1},"n_embd":48,"n_head":3}') as Gpt2Config;
    expect(c.n_embd).toBe(48);
    expect(c.raw.has('__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).n_embd).toBeUndefined();
  });
});

describe('ViT config', () => {
  it('takes transformers ViTConfig defaults (layer_norm_eps 1e-12, 2 labels)', () => {
    const c = vit({ model_type: 'vit' });
    expect(c).toMatchObject({
      hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, head_size: 64, intermediate_size: 3072,
      hidden_act: 'gelu', hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, initializer_range: 0.02,
      layer_norm_eps: 1e-12, image_size: [224, 224], patch_size: [16, 16], num_channels: 3, num_patches: 196,
      qkv_bias: true, encoder_stride: 16, pooler_output_size: 768, num_labels: 2, id2label: ['LABEL_0', 'LABEL_1'],
    });
  });

  it('reads the tiny config with labels (duplicate names as in ImageNet)', () => {
    const c = vit(vitConfig());
    expect(c).toMatchObject({ hidden_size: 48, num_attention_heads: 3, head_size: 16, num_patches: 4, num_labels: 5 });
    expect(c.id2label).toEqual(LABELS);
    expect(c.label2id.get('crane')).toBe(4);
  });

  it('id2label keys in any order; label2id built when absent (later duplicate wins)', () => {
    const c = vit({ model_type: 'vit', id2label: { '2': 'c', '0': 'a', '1': 'c' } });
    expect(c.id2label).toEqual(['a', 'c', 'c']);
    expect([...c.label2id]).toEqual([['a', 0], ['c', 2]]);
  });

  it('num_labels without id2label makes LABEL_i; label2id ids may be strings', () => {
    expect(vit({ model_type: 'vit', num_labels: 3 }).id2label).toEqual(['LABEL_0', 'LABEL_1', 'LABEL_2']);
    expect(vit({ model_type: 'vit', id2label: { '0': 'a' }, label2id: { a: '0' } }).label2id.get('a')).toBe(0);
  });

  it('image_size and patch_size may be [height, width]', () => {
    const c = vit({ model_type: 'vit', image_size: [8, 12], patch_size: [4, 4] });
    expect([c.image_size, c.patch_size, c.num_patches]).toEqual([[8, 12], [4, 4], 6]);
  });
});

// [what, config text, key named]
const REFUSALS: [string, string, string | undefined][] = [
  ['not JSON', '{"model_type": "gpt2",}', undefined],
  ['duplicate key', '{"model_type":"gpt2","n_embd":48,"n_embd":64}', undefined],
  ['top-level array', '[1]', undefined],
  ['no model_type', JSON.stringify({ n_embd: 48 }), 'model_type'],
  ['unknown model_type', JSON.stringify({ model_type: 'bert' }), 'model_type'],
  ['unsupported architecture', JSON.stringify(gpt2Config({ architectures: ['GPT2DoubleHeadsModel'] })), 'architectures'],
  ['n_embd a string', JSON.stringify(gpt2Config({ n_embd: '48' })), 'n_embd'],
  ['n_embd a float token', '{"model_type":"gpt2","n_embd":48.0,"n_head":3}', 'n_embd'],
  ['n_layer 0', JSON.stringify(gpt2Config({ n_layer: 0 })), 'n_layer'],
  ['absurd vocab_size', JSON.stringify(gpt2Config({ vocab_size: 1e12 })), 'vocab_size'],
  ['tie_word_embeddings a string', JSON.stringify(gpt2Config({ tie_word_embeddings: 'true' })), 'tie_word_embeddings'],
  ['layer_norm_epsilon 0', JSON.stringify(gpt2Config({ layer_norm_epsilon: 0 })), 'layer_norm_epsilon'],
  ['unknown activation', JSON.stringify(gpt2Config({ activation_function: 'gelu_newer' })), 'activation_function'],
  ['n_embd % n_head', JSON.stringify(gpt2Config({ n_head: 5 })), 'n_head'],
  ['n_embd % num_attention_heads (alias named)', '{"model_type":"gpt2","n_embd":48,"num_attention_heads":5}', 'num_attention_heads'],
  ['alias with another value', JSON.stringify(gpt2Config({ hidden_size: 64 })), 'hidden_size'],
  ['n_inner negative', JSON.stringify(gpt2Config({ n_inner: -1 })), 'n_inner'],
  ['eos list with a string', JSON.stringify(gpt2Config({ eos_token_id: [1, 'x'] })), 'eos_token_id'],
  ['ViT hidden % heads', JSON.stringify(vitConfig({ num_attention_heads: 5 })), 'num_attention_heads'],
  ['ViT image % patch', JSON.stringify(vitConfig({ image_size: 10 })), 'image_size'],
  ['ViT image_size list of 3', JSON.stringify(vitConfig({ image_size: [8, 8, 8] })), 'image_size'],
  ['ViT qkv_bias null', JSON.stringify(vitConfig({ qkv_bias: null })), 'qkv_bias'],
  ['id2label gap', JSON.stringify(vitConfig({ id2label: { '0': 'a', '2': 'b' }, label2id: null })), 'id2label'],
  ['id2label key "01"', JSON.stringify(vitConfig({ id2label: { '01': 'a' }, label2id: null })), 'id2label'],
  ['id2label value a number', JSON.stringify(vitConfig({ id2label: { '0': 1 }, label2id: null })), 'id2label'],
  ['id2label empty', JSON.stringify(vitConfig({ id2label: {}, label2id: null })), 'id2label'],
  ['num_labels vs id2label', JSON.stringify(vitConfig({ num_labels: 3 })), 'num_labels'],
  ['label2id points elsewhere', JSON.stringify(vitConfig({ label2id: { tench: 1 } })), 'label2id'],
  ['label2id id out of range', JSON.stringify(vitConfig({ label2id: { tench: 9 } })), 'label2id'],
];

describe('config refusals name config.json and the key', () => {
  it.each(REFUSALS)('%s', (_what, text, key) => {
    const e = refusal(text);
    expect(e.code).toBe('MODEL_CONFIG');
    expect(e.file).toBe('config.json');
    expect(e.key).toBe(key);
    expect(e.message).toMatch(/^MODEL_CONFIG in config\.json/);
    if (key !== undefined) expect(e.message).toContain(`"${key}"`);
  });
});

describe('glossary', () => {
  it('declares every shape letter of docs/engineering.md#shape-letters with a one-line meaning', () => {
    expect(Object.keys(SHAPE_LETTERS).sort()).toEqual(['B', 'C', 'HS', 'L', 'NH', 'NKV', 'P', 'R', 'T', 'V']);
    for (const meaning of Object.values(SHAPE_LETTERS)) expect(meaning).not.toMatch(/\n/);
    // The doc's table (rows `| letter | meaning |` after the #shape-letters anchor) lists the same letters.
    const doc = readFileSync('docs/engineering.md', 'utf8').split('<a id="shape-letters"></a>')[1].split('\n<a id=')[0];
    const documented = [...doc.matchAll(/^\| ([A-Z]+) \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(SHAPE_LETTERS).sort());
  });
});
