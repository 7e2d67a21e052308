// Tiny model folders built in memory whose strings are hostile: a GPT-2 whose tokenizer holds one added
// token made of every payload and whose weights make it generate that token at every step (ln_f's
// weight is 0, so the last hidden state is ln_f's bias whatever the input, and only that token's
// embedding points along it: logit 40 against 0), and a ViT whose id2label values are the payloads.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeSafetensors, type F32Tensor } from '../../src/io/safetensors';
import { BYTE_ALPHABET } from '../../src/io/tokenizer';

const ROOT = resolve(import.meta.dirname, '../..');

/** A deterministic small pseudo-random fill (the model's other weights do not matter). */
function fill(n: number, seed: number, scale = 0.05): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  });
}

const t = (shape: number[], data: Float32Array): F32Tensor => ({ shape, data });

export interface HostileGpt2 {
  files: { name: string; mimeType: string; buffer: Buffer }[];
  /** The text of the token the model always generates. */
  generated: string;
}

export function hostileGpt2(payloads: string[]): HostileGpt2 {
  const C = 16, inner = 32, P = 128;
  const generated = payloads.join(' | ');
  const vocab: Record<string, number> = {};
  BYTE_ALPHABET.forEach((ch, i) => { vocab[ch] = i; });
  const ALL = BYTE_ALPHABET.length, EOS = ALL + 1, V = EOS + 1;
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [
      { id: ALL, content: generated, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
      { id: EOS, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
  const config = {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: V, n_positions: P, n_ctx: P, n_embd: C, n_layer: 1, n_head: 2,
    n_inner: inner, activation_function: 'gelu_new', resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, layer_norm_epsilon: 1e-5,
    initializer_range: 0.02, bos_token_id: EOS, eos_token_id: EOS, tie_word_embeddings: true, torch_dtype: 'float32',
  };
  const wte = fill(V * C, 1);
  for (let v = 0; v < V; v++) wte[v * C] = v === ALL ? 1 : 0; // only ALL has a component along dimension 0
  const lnfBias = new Float32Array(C);
  lnfBias[0] = 40;
  const ones = new Float32Array(C).fill(1);
  const p = 'transformer.';
  const tensors = new Map<string, F32Tensor>([
    [`${p}wte.weight`, t([V, C], wte)],
    [`${p}wpe.weight`, t([P, C], fill(P * C, 2))],
    [`${p}h.0.ln_1.weight`, t([C], ones)], [`${p}h.0.ln_1.bias`, t([C], new Float32Array(C))],
    [`${p}h.0.attn.c_attn.weight`, t([C, 3 * C], fill(C * 3 * C, 3))], [`${p}h.0.attn.c_attn.bias`, t([3 * C], new Float32Array(3 * C))],
    [`${p}h.0.attn.c_proj.weight`, t([C, C], fill(C * C, 4))], [`${p}h.0.attn.c_proj.bias`, t([C], new Float32Array(C))],
    [`${p}h.0.ln_2.weight`, t([C], ones)], [`${p}h.0.ln_2.bias`, t([C], new Float32Array(C))],
    [`${p}h.0.mlp.c_fc.weight`, t([C, inner], fill(C * inner, 5))], [`${p}h.0.mlp.c_fc.bias`, t([inner], new Float32Array(inner))],
    [`${p}h.0.mlp.c_proj.weight`, t([inner, C], fill(inner * C, 6))], [`${p}h.0.mlp.c_proj.bias`, t([C], new Float32Array(C))],
    [`${p}ln_f.weight`, t([C], new Float32Array(C))], [`${p}ln_f.bias`, t([C], lnfBias)],
  ]);
  return {
    generated,
    files: [
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(config)) },
      { name: 'tokenizer.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(tokenizer)) },
      { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(writeSafetensors(tensors)) },
    ],
  };
}

/** The test ViT (8×8 pixels, 5 classes) with id2label values `labels` (5 of them). */
export function hostileVit(labels: string[]): { name: string; mimeType: string; buffer: Buffer }[] {
  const dir = resolve(ROOT, 'test/fixtures/vit_tiny');
  const config = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  if (labels.length !== 5) throw new Error('the test ViT has 5 classes');
  config.id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  config.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const pre = { do_resize: true, size: { height: 8, width: 8 }, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], do_rescale: true, rescale_factor: 1 / 255, resample: 2 };
  return [
    { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(config)) },
    { name: 'preprocessor_config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(pre)) },
    { name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(resolve(dir, 'model.safetensors')) },
  ];
}
