// The shape letters used in every shape comment of the project (docs/engineering.md#shape-letters), declared once.
// GPT-2 config names in brackets: C = n_embd, NH = n_head, L = n_layer, V = vocab_size;
// ViT: C = hidden_size, NH = num_attention_heads, L = num_hidden_layers, P = (image/patch)².

export const SHAPE_LETTERS = {
  B: 'batch size (sequences or images per micro-batch)',
  T: 'sequence length in tokens (ViT: P + 1, the CLS token plus the patches)',
  C: 'channels: the residual width (GPT-2 n_embd, ViT hidden_size)',
  NH: 'number of attention heads (n_head / num_attention_heads)',
  NKV: 'number of key/value heads (num_key_value_heads; NKV = NH without grouped-query attention)',
  HS: 'head size: C / NH for GPT-2 and ViT (64 at every standard size); head_dim where a config sets it',
  V: 'vocabulary size (GPT-2 vocab_size); the LM head has V outputs',
  L: 'number of transformer blocks (n_layer / num_hidden_layers)',
  R: 'LoRA rank r',
  P: 'number of ViT patches, (image_size / patch_size)² for square images',
} as const;

export type ShapeLetter = keyof typeof SHAPE_LETTERS;
