// The LoRA+ optimizer groups (PEFT create_loraplus_optimizer): lora_A ×1, lora_B ×ratio, every 1-D
// trainable tensor (DoRA magnitudes, the classifier bias) ×ratio, the classifier weight ×1; no ratio:
// one group at lr. Every method that trains LoRA experts uses these groups.
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../../src/adapters/registry';
import { loraPlusGroup } from '../../../src/adapters/variant';
import { resolveConfig } from '../../../src/train/config';

const A = 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight';
const Bk = 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight';
const M = 'base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector';

describe('LoRA+ groups', () => {
  it('ratio 16 (method loraplus default): A ×1, B ×16, 1-D tensors ×16, the classifier weight ×1; weight decay as configured', () => {
    const c = resolveConfig({ method: 'loraplus', weightDecay: 0.01 });
    expect(c.loraplusRatio).toBe(16);
    expect(loraPlusGroup(A, [8, 64], c)).toEqual({ lrScale: 1, weightDecay: 0.01 });
    expect(loraPlusGroup(Bk, [192, 8], c)).toEqual({ lrScale: 16, weightDecay: 0.01 });
    expect(loraPlusGroup(M, [192], c)).toEqual({ lrScale: 16, weightDecay: 0.01 });
    expect(loraPlusGroup('classifier.bias', [10], c)).toEqual({ lrScale: 16, weightDecay: 0.01 });
    expect(loraPlusGroup('classifier.weight', [10, 64], c)).toEqual({ lrScale: 1, weightDecay: 0.01 });
  });

  it('another ratio is used as given; without a ratio every tensor is in one group at lr', () => {
    const c = resolveConfig({ method: 'lorasc', loraplusRatio: 4 });
    expect(loraPlusGroup(Bk, [192, 8], c).lrScale).toBe(4);
    expect(loraPlusGroup(A, [8, 64], c).lrScale).toBe(1);
    const plain = resolveConfig({ method: 'lora' });
    for (const [name, shape] of [[A, [8, 64]], [Bk, [192, 8]], [M, [192]], ['classifier.bias', [10]]] as const) {
      expect(loraPlusGroup(name, shape, plain).lrScale, name).toBe(1);
    }
  });

  it('the five methods of the paper all train with these groups', () => {
    const c = resolveConfig({ method: 'lorasc', loraplusRatio: 8 });
    for (const name of ['lora', 'loraplus', 'dora', 'cola', 'lorasc'] as const) expect(ADAPTERS[name].paramGroup(Bk, [192, 8], c).lrScale, name).toBe(8);
  });
});
