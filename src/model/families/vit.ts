// ViT (ViTForImageClassification) as a block-engine family: pre-LayerNorm blocks with learned positions,
// separate query/key/value Linears (biased per qkv_bias), exact GELU and bidirectional multi-head
// attention over nn.Linear weights ([out, in]); stem = patch projection, [CLS; patches] + positions;
// head = the final layernorm, the CLS row and a trainable classifier (../vit/ files). Config reader:
// io/hfModel/config.ts (parseVitConfig); name map: io/hfModel/layout.ts.
import type { LoadedVit } from '../../io/hfModel';
import type { FamilySpec } from './spec';

export function vitSpec(loaded: LoadedVit): FamilySpec {
  const c = loaded.config;
  if (c.hidden_act !== 'gelu') throw new Error(`ViT engine: hidden_act '${c.hidden_act}' is not supported (only exact 'gelu')`);
  return {
    family: 'ViT',
    norm: 'layernorm',
    position: 'learned',
    mlp: 'gelu_erf',
    attention: { causal: false, NH: c.num_attention_heads, NKV: c.num_attention_heads, HS: c.hidden_size / c.num_attention_heads, qkNorm: false },
    C: c.hidden_size, I: c.intermediate_size, L: c.num_hidden_layers, eps: c.layer_norm_eps,
    layout: 'linear',
    modules: {
      qkv: ['attention.attention.query', 'attention.attention.key', 'attention.attention.value'],
      o: 'attention.output.dense', up: 'intermediate.dense', down: 'output.dense',
    },
    norms: { n1: 'layernorm_before', n2: 'layernorm_after' },
    biases: { qkv: loaded.tensors.has('encoder.layer.0.attention.attention.query.bias'), o: true, mlp: true },
    tiedHead: false,
    blockPrefix: (l) => `encoder.layer.${l}.`,
    peftPrefix: (l) => `vit.encoder.layer.${l}.`,
  };
}
