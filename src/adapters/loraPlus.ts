// LoRA+ (Hayou et al. 2024): plain LoRA layers, an optimizer policy only — lora_B and 1-D tensors
// learn ratio × faster (default 16). Ratio 1 reproduces LoRA bit for bit (lr × 1 is exact).
import { type AdapterVariant, loraPlusGroup, singleAdapterRefusal } from './variant';

export const loraPlus: AdapterVariant = {
  name: 'loraplus',
  label: 'LoRA+',
  summary: 'LoRA+: LoRA with lora_B (and 1-D tensors) at lr × ratio (default 16).',
  useDora: (c) => c.useDora,
  reads: [],
  refusal: singleAdapterRefusal('loraplus'),
  fixed: {},
  defaults: { loraplusRatio: 16 },
  cascades: false,
  form: null,
  paramGroup: loraPlusGroup,
  cascade: () => null,
};
