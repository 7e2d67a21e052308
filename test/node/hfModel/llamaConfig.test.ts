// config.json of the Llama families (docs/formats.md#llama-config): transformers' defaults per family,
// the derived switches, and one MODEL_CONFIG refusal naming the key for everything the engine cannot
// compute exactly.
import { describe, expect, it } from 'vitest';
import { type LlamaConfig, ModelDirError } from '../../../src/io/hfModel';
import { parseModelConfig } from '../../../src/io/hfModel/config';
import { type Family, LL, llamaConfig } from './llamaFixtures';

function parse(c: object): LlamaConfig {
  const cfg = parseModelConfig(JSON.stringify(c));
  if (cfg.model_type === 'gpt2' || cfg.model_type === 'vit') throw new Error('not a llama');
  return cfg;
}

function refusal(c: object): ModelDirError {
  try {
    parseModelConfig(JSON.stringify(c));
  } catch (e) {
    if (e instanceof ModelDirError) return e;
    throw e;
  }
  throw new Error('accepted');
}

const FAMILIES: Family[] = ['llama', 'mistral', 'qwen2', 'qwen3'];

describe('Llama-family config.json', () => {
  it.each(FAMILIES)('%s: the fixture config and its family switches', (family) => {
    const c = parse(llamaConfig(family));
    expect(c.model_type).toBe(family);
    expect([c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.vocab_size, c.intermediate_size]).toEqual([LL.C, LL.NH, LL.NKV, LL.V, LL.I]);
    expect(c.head_dim).toBe(family === 'qwen3' ? 10 : 8);
    expect([c.qkvBias, c.oBias, c.mlpBias, c.qkNorm]).toEqual([family === 'qwen2', false, false, family === 'qwen3']);
    expect(c.tie_word_embeddings).toBe(family !== 'llama');
    expect(c.eos_token_id).toEqual(family === 'llama' ? [2, 3] : [2]);
    expect(c.slidingWindow).toBe(family === 'mistral' ? 4096 : null);
    expect(c.raw.get('torch_dtype')).toBe('bfloat16');
  });

  it('absent keys take each class\'s defaults (LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config)', () => {
    const l = parse({ model_type: 'llama' });
    expect([l.vocab_size, l.hidden_size, l.intermediate_size, l.num_hidden_layers, l.num_attention_heads, l.num_key_value_heads, l.head_dim]).toEqual([32000, 4096, 11008, 32, 32, 32, 128]);
    expect([l.max_position_embeddings, l.rms_norm_eps, l.rope_theta, l.rope_scaling, l.tie_word_embeddings, l.bos_token_id, l.eos_token_id]).toEqual([2048, 1e-6, 10000, null, false, 1, [2]]);
    const m = parse({ model_type: 'mistral' });
    expect([m.num_key_value_heads, m.intermediate_size, m.slidingWindow, m.max_position_embeddings]).toEqual([8, 14336, 4096, 131072]);
    // An explicit null means "as many KV heads as heads" in every class (MistralConfig's default 8 is for absence).
    expect(parse({ model_type: 'mistral', num_key_value_heads: null }).num_key_value_heads).toBe(32);
    const q2 = parse({ model_type: 'qwen2', hidden_size: 64 });
    expect([q2.vocab_size, q2.num_attention_heads, q2.num_key_value_heads, q2.head_dim, q2.qkvBias, q2.oBias, q2.slidingWindow, q2.bos_token_id, q2.eos_token_id]).toEqual([151936, 32, 32, 2, true, false, null, null, []]);
    // Qwen3Config's head_dim defaults to 128 whatever hidden_size / num_attention_heads is.
    const q3 = parse({ model_type: 'qwen3', hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2 });
    expect([q3.head_dim, q3.qkNorm, q3.qkvBias]).toEqual([128, true, false]);
  });

  it('attention_bias / mlp_bias per family: llama all four / MLP, qwen3 all four, mistral and qwen2 ignore them', () => {
    expect(parse(llamaConfig('llama', { attention_bias: true, mlp_bias: true }))).toMatchObject({ qkvBias: true, oBias: true, mlpBias: true });
    expect(parse(llamaConfig('qwen3', { attention_bias: true }))).toMatchObject({ qkvBias: true, oBias: true, mlpBias: false });
    expect(parse(llamaConfig('qwen2', { attention_bias: true }))).toMatchObject({ qkvBias: true, oBias: false, mlpBias: false });
    expect(parse(llamaConfig('mistral', { attention_bias: true }))).toMatchObject({ qkvBias: false, oBias: false });
  });

  it('eos_token_id: an int, a list or null becomes a list', () => {
    expect(parse(llamaConfig('llama', { eos_token_id: 7 })).eos_token_id).toEqual([7]);
    expect(parse(llamaConfig('llama', { eos_token_id: [7, 9] })).eos_token_id).toEqual([7, 9]);
    expect(parse(llamaConfig('llama', { eos_token_id: null })).eos_token_id).toEqual([]);
    expect(refusal(llamaConfig('llama', { eos_token_id: [7, 'x'] })).key).toBe('eos_token_id');
  });

  it('sliding window: mistral unless null; qwen2/3 only with use_sliding_window on a layer that uses it', () => {
    expect(parse(llamaConfig('mistral', { sliding_window: null })).slidingWindow).toBe(null);
    expect(parse(llamaConfig('mistral', { sliding_window: 16 })).slidingWindow).toBe(16);
    expect(parse(llamaConfig('qwen2', { use_sliding_window: true, sliding_window: 16, max_window_layers: 1 })).slidingWindow).toBe(16);
    expect(parse(llamaConfig('qwen2', { use_sliding_window: true, sliding_window: 16, max_window_layers: 2 })).slidingWindow).toBe(null);
    expect(parse(llamaConfig('qwen3', { use_sliding_window: true, sliding_window: 16, layer_types: ['full_attention', 'sliding_attention'] })).slidingWindow).toBe(16);
    expect(parse(llamaConfig('qwen3', { use_sliding_window: false, sliding_window: 16, layer_types: ['full_attention', 'sliding_attention'] })).slidingWindow).toBe(null);
  });

  it('rope_scaling linear and llama3 are accepted; rope_parameters (transformers ≥ 5) too', () => {
    expect(parse(llamaConfig('llama', { rope_scaling: { type: 'linear', factor: 2.0 } })).rope_scaling).toEqual({ type: 'linear', factor: 2 });
    const l3 = { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 };
    expect(parse(llamaConfig('llama', { rope_theta: 500000.0, rope_scaling: l3 })).rope_scaling).toEqual({ ...l3, factor: 32, low_freq_factor: 1, high_freq_factor: 4 });
    const p = parse(llamaConfig('llama', { rope_theta: undefined, rope_scaling: undefined, rope_parameters: { rope_type: 'default', rope_theta: 1000000.0 } }));
    expect([p.rope_theta, p.rope_scaling]).toEqual([1e6, null]);
  });

  // config.json files shaped as the Hub's (keys and values of SmolLM2-135M, Qwen3-0.6B, Llama-3.2-1B,
  // Qwen2.5-0.5B, Mistral-7B-v0.1), including keys transformers ignores (rope_interleaved, is_llama_config).
  const HUB: [string, Record<string, unknown>, Partial<LlamaConfig>][] = [
    ['SmolLM2-135M', { architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 0, hidden_act: 'silu', hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536, is_llama_config: true, max_position_embeddings: 8192, mlp_bias: false, model_type: 'llama', num_attention_heads: 9, num_hidden_layers: 30, num_key_value_heads: 3, pretraining_tp: 1, rms_norm_eps: 1e-05, rope_interleaved: false, rope_scaling: null, rope_theta: 100000, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 49152 },
      { head_dim: 64, num_key_value_heads: 3, tie_word_embeddings: true, eos_token_id: [0], qkvBias: false }],
    ['Qwen3-0.6B', { architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645, head_dim: 128, hidden_act: 'silu', hidden_size: 1024, intermediate_size: 3072, max_position_embeddings: 40960, max_window_layers: 28, model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-06, rope_scaling: null, rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936 },
      { head_dim: 128, qkNorm: true, slidingWindow: null, rope_theta: 1e6 }],
    ['Llama-3.2-1B', { architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000, eos_token_id: 128001, head_dim: 64, hidden_act: 'silu', hidden_size: 2048, intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-05, rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' }, rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 128256 },
      { head_dim: 64, rope_theta: 500000, max_position_embeddings: 131072 }],
    ['Qwen2.5-0.5B', { architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643, hidden_act: 'silu', hidden_size: 896, intermediate_size: 4864, max_position_embeddings: 32768, max_window_layers: 24, model_type: 'qwen2', num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-06, rope_theta: 1000000.0, sliding_window: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936 },
      { head_dim: 64, qkvBias: true, oBias: false, slidingWindow: null }],
    ['Mistral-7B-v0.1', { architectures: ['MistralForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096, intermediate_size: 14336, max_position_embeddings: 32768, model_type: 'mistral', num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, rms_norm_eps: 1e-05, rope_theta: 10000.0, sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16', use_cache: true, vocab_size: 32000 },
      { head_dim: 128, slidingWindow: 4096, tie_word_embeddings: false }],
  ];

  it.each(HUB)('accepts a %s config.json', (_name, file, want) => {
    expect(parse(file)).toMatchObject(want);
  });

  const REFUSED: [string, Record<string, unknown>, string, string?][] = [
    ['hidden_act other than silu', { hidden_act: 'gelu' }, 'hidden_act', '"gelu"'],
    ['yarn scaling', { rope_scaling: { rope_type: 'yarn', factor: 4.0 } }, 'rope_scaling.rope_type', '"yarn"'],
    ['dynamic scaling (old "type" key)', { rope_scaling: { type: 'dynamic', factor: 2.0 } }, 'rope_scaling.type', '"dynamic"'],
    ['llama3 scaling without factor', { rope_scaling: { rope_type: 'llama3', low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } }, 'rope_scaling.factor'],
    ['rope_scaling that is not an object', { rope_scaling: 'linear' }, 'rope_scaling'],
    ['partial_rotary_factor', { partial_rotary_factor: 0.5 }, 'partial_rotary_factor', '0.5'],
    ['heads not a multiple of KV heads', { num_key_value_heads: 2 }, 'num_key_value_heads', '3 is not a multiple of num_key_value_heads 2'],
    ['odd head_dim', { head_dim: 9 }, 'head_dim', 'odd'],
    ['odd derived head_dim', { hidden_size: 15 }, 'head_dim', '5 (derived) is odd'],
    ['hidden_size not divisible and no head_dim', { hidden_size: 25 }, 'num_attention_heads', 'no head_dim'],
    ['attention dropout', { attention_dropout: 0.1 }, 'attention_dropout'],
    ['a quantized checkpoint', { quantization_config: { quant_method: 'bitsandbytes' } }, 'quantization_config'],
    ['another architecture for the type', { architectures: ['Qwen2ForCausalLM'] }, 'architectures', '"Qwen2ForCausalLM"'],
    ['a non-boolean tie_word_embeddings', { tie_word_embeddings: 1 }, 'tie_word_embeddings'],
    ['rope_parameters and rope_scaling together', { rope_parameters: { rope_type: 'linear', factor: 2 }, rope_scaling: { rope_type: 'linear', factor: 2 } }, 'rope_scaling'],
  ];

  it.each(REFUSED)('refuses %s, naming the key', (_what, over, key, hint) => {
    const e = refusal(llamaConfig('llama', over));
    expect(e.code).toBe('MODEL_CONFIG');
    expect(e.key).toBe(key);
    expect(e.message).toContain('config.json');
    expect(e.message.split('\n')).toHaveLength(1);
    if (hint) expect(e.message).toContain(hint);
  });

  it('qwen2 sliding window keys are checked only where they matter; an unknown model_type lists the supported ones', () => {
    expect(refusal(llamaConfig('qwen2', { use_sliding_window: 'yes' })).key).toBe('use_sliding_window');
    expect(refusal(llamaConfig('qwen3', { layer_types: ['full_attention', 'chunked_attention'] })).message).toContain('"chunked_attention" is not supported');
    expect(refusal(llamaConfig('qwen2', { layer_types: ['full_attention'] })).key).toBe('layer_types');
    expect(refusal(llamaConfig('mistral', { sliding_window: 0 })).key).toBe('sliding_window');
    const e = refusal({ model_type: 'gemma' });
    expect(e.key).toBe('model_type');
    expect(e.message).toContain('"llama", "mistral", "qwen2", "qwen3"');
  });
});
