// The parameter tensors a config implies, under CANONICAL names, with their shapes (docs/formats.md#gpt2, #vit).
//
// Canonical naming scheme (what the rest of the app uses; export maps back through `originalKeys`):
//  - the names transformers uses INSIDE the backbone module, without the wrapper prefix of the file:
//      GPT-2: `wte.weight`, `wpe.weight`, `h.{i}.ln_1.weight`, `h.{i}.attn.c_attn.weight`, …, `ln_f.bias`
//             (a file may store them as `transformer.h.{i}…`);
//      ViT:   `embeddings.cls_token`, `embeddings.position_embeddings`,
//             `embeddings.patch_embeddings.projection.weight`, `encoder.layer.{i}.attention.attention.query.weight`,
//             …, `layernorm.weight` (a file may store them as `vit.encoder.layer.{i}…`);
//      Llama family (llama, mistral, qwen2, qwen3): `embed_tokens.weight`, `layers.{i}.self_attn.q_proj.weight`,
//             …, `norm.weight` (the file stores them as `model.layers.{i}…`; a bare LlamaModel without it);
//  - heads keep their top-level names, which never carry a prefix: GPT-2 and Llama `lm_head.weight` (only
//    when untied), ViT `classifier.weight` / `classifier.bias`;
//  - shapes and layouts are exactly those of the file: GPT-2 Conv1D weights stay [in, out], ViT
//    nn.Linear weights stay [out, in], the patch Conv2d stays [C, channels, ph, pw]. Nothing is transposed.
//  - buffers (GPT-2 `attn.bias`, `attn.masked_bias`), a duplicate tied `lm_head.weight` and the ViTModel
//    pooler are not canonical parameters: the loader keeps them, under their original keys, for export.
import type { Gpt2Config, LlamaConfig, VitConfig } from './config';

export interface TensorSpec {
  /** Canonical name. */
  name: string;
  shape: readonly number[];
  /** Backbone tensors may carry the file's prefix (`transformer.` / `vit.`); heads never do. */
  part: 'backbone' | 'head';
}

/**
 * The LoRA-targetable linear modules of one block, by their name under the block (`h.{i}.` /
 * `encoder.layer.{i}.`), in forward order: the part of each family's name map that PEFT, the engine
 * and export share. GPT-2's are Conv1D ([in, out]); ViT's are nn.Linear ([out, in]).
 */
export const GPT2_MODULES = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export type Gpt2Module = (typeof GPT2_MODULES)[number];
export const VIT_LINEAR_MODULES = [
  'attention.attention.query',
  'attention.attention.key',
  'attention.attention.value',
  'attention.output.dense',
  'intermediate.dense',
  'output.dense',
] as const;
export type VitLinearModule = (typeof VIT_LINEAR_MODULES)[number];

/**
 * Llama-family linear modules under `layers.{i}.`, in forward order; all nn.Linear ([out, in]). PEFT's
 * suffix rule makes "q_proj" … "down_proj" name them (docs/formats.md#llama-peft).
 */
export const LLAMA_MODULES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
] as const;
export type LlamaModule = (typeof LLAMA_MODULES)[number];

export const GPT2_PREFIX = 'transformer.';
export const LLAMA_PREFIX = 'model.';
export const VIT_PREFIX = 'vit.';

/** GPT-2 parameters in model order; `lm_head.weight` only when the head is not tied to wte. */
export function gpt2Parameters(c: Gpt2Config): TensorSpec[] {
  const C = c.n_embd;
  const I = c.n_inner;
  const out: TensorSpec[] = [];
  const add = (name: string, ...shape: number[]) => out.push({ name, shape, part: 'backbone' });
  add('wte.weight', c.vocab_size, C); // (V, C)
  add('wpe.weight', c.n_positions, C); // (n_positions, C)
  for (let i = 0; i < c.n_layer; i++) {
    const h = `h.${i}.`;
    add(`${h}ln_1.weight`, C);
    add(`${h}ln_1.bias`, C);
    add(`${h}attn.c_attn.weight`, C, 3 * C); // Conv1D [in, out]: columns Q | K | V
    add(`${h}attn.c_attn.bias`, 3 * C);
    add(`${h}attn.c_proj.weight`, C, C);
    add(`${h}attn.c_proj.bias`, C);
    add(`${h}ln_2.weight`, C);
    add(`${h}ln_2.bias`, C);
    add(`${h}mlp.c_fc.weight`, C, I); // (C, I)
    add(`${h}mlp.c_fc.bias`, I);
    add(`${h}mlp.c_proj.weight`, I, C); // (I, C)
    add(`${h}mlp.c_proj.bias`, C);
  }
  add('ln_f.weight', C);
  add('ln_f.bias', C);
  if (!c.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [c.vocab_size, C], part: 'head' }); // (V, C)
  return out;
}

/**
 * Llama-family parameters in model order (docs/formats.md#llama-tensors); nn.Linear weights [out, in].
 * Biases and the per-head q/k norms follow the config's switches; `lm_head.weight` only when untied.
 */
export function llamaParameters(c: LlamaConfig): TensorSpec[] {
  const C = c.hidden_size;
  const I = c.intermediate_size;
  const Q = c.num_attention_heads * c.head_dim; // NH·HS
  const KV = c.num_key_value_heads * c.head_dim; // NKV·HS
  const out: TensorSpec[] = [];
  const add = (name: string, ...shape: number[]) => out.push({ name, shape, part: 'backbone' });
  const linear = (name: string, OUT: number, IN: number, bias: boolean) => {
    add(`${name}.weight`, OUT, IN);
    if (bias) add(`${name}.bias`, OUT);
  };
  add('embed_tokens.weight', c.vocab_size, C); // (V, C)
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `layers.${i}.`;
    add(`${l}input_layernorm.weight`, C);
    linear(`${l}self_attn.q_proj`, Q, C, c.qkvBias);
    linear(`${l}self_attn.k_proj`, KV, C, c.qkvBias);
    linear(`${l}self_attn.v_proj`, KV, C, c.qkvBias);
    linear(`${l}self_attn.o_proj`, C, Q, c.oBias);
    if (c.qkNorm) {
      add(`${l}self_attn.q_norm.weight`, c.head_dim); // one RMSNorm weight shared by every head
      add(`${l}self_attn.k_norm.weight`, c.head_dim);
    }
    add(`${l}post_attention_layernorm.weight`, C);
    linear(`${l}mlp.gate_proj`, I, C, c.mlpBias);
    linear(`${l}mlp.up_proj`, I, C, c.mlpBias);
    linear(`${l}mlp.down_proj`, C, I, c.mlpBias);
  }
  add('norm.weight', C);
  if (!c.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [c.vocab_size, C], part: 'head' }); // (V, C)
  return out;
}

/**
 * Rotary `inv_freq` buffers that checkpoints saved by transformers < 4.31 hold per layer (and some
 * conversions at the model level): recomputed from the config by the engine, kept for export only.
 */
export const LLAMA_BUFFER = /^(?:layers\.(0|[1-9][0-9]*)\.self_attn\.)?rotary_emb\.inv_freq$/;

/** GPT-2 non-parameter buffers of layer `i` (causal mask, old masked-fill constant). */
export const GPT2_BUFFER = /^h\.(0|[1-9][0-9]*)\.attn\.(bias|masked_bias)$/;

/** ViT backbone parameters in model order (the classifier is separate: see vitClassifier). */
export function vitParameters(c: VitConfig): TensorSpec[] {
  const C = c.hidden_size;
  const I = c.intermediate_size;
  const out: TensorSpec[] = [];
  const add = (name: string, ...shape: number[]) => out.push({ name, shape, part: 'backbone' });
  add('embeddings.cls_token', 1, 1, C);
  add('embeddings.position_embeddings', 1, c.num_patches + 1, C); // (1, P + 1, C)
  add('embeddings.patch_embeddings.projection.weight', C, c.num_channels, c.patch_size[0], c.patch_size[1]);
  add('embeddings.patch_embeddings.projection.bias', C);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `encoder.layer.${i}.`;
    add(`${l}layernorm_before.weight`, C);
    add(`${l}layernorm_before.bias`, C);
    for (const qkv of ['query', 'key', 'value']) {
      add(`${l}attention.attention.${qkv}.weight`, C, C); // nn.Linear [out, in]
      if (c.qkv_bias) add(`${l}attention.attention.${qkv}.bias`, C);
    }
    add(`${l}attention.output.dense.weight`, C, C);
    add(`${l}attention.output.dense.bias`, C);
    add(`${l}layernorm_after.weight`, C);
    add(`${l}layernorm_after.bias`, C);
    add(`${l}intermediate.dense.weight`, I, C); // (I, C)
    add(`${l}intermediate.dense.bias`, I);
    add(`${l}output.dense.weight`, C, I); // (C, I)
    add(`${l}output.dense.bias`, C);
  }
  add('layernorm.weight', C);
  add('layernorm.bias', C);
  return out;
}

/** `classifier` (nn.Linear C → K) of ViTForImageClassification. */
export function vitClassifier(c: VitConfig, numClasses: number): TensorSpec[] {
  return [
    { name: 'classifier.weight', shape: [numClasses, c.hidden_size], part: 'head' }, // (K, C)
    { name: 'classifier.bias', shape: [numClasses], part: 'head' },
  ];
}

/** ViTModel's pooler (dense + tanh on the CLS token): unused for classification, kept for export. */
export function vitPooler(c: VitConfig): TensorSpec[] {
  return [
    { name: 'pooler.dense.weight', shape: [c.pooler_output_size, c.hidden_size], part: 'backbone' },
    { name: 'pooler.dense.bias', shape: [c.pooler_output_size], part: 'backbone' },
  ];
}

/** Element count of a shape (sizes are capped by config parsing, so this stays a safe integer). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
