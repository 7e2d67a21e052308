// LoRA+ (Hayou et al. 2024): plain LoRA layers, an optimizer policy only — lora_B and 1-D tensors
// learn ratio × faster (default 16). Ratio 1 reproduces LoRA bit for bit (lr × 1 is exact).
import { type AdapterVariant, loraPlusGroup } from './variant';

export const loraPlus: AdapterVariant = {
  name: 'loraplus',
  summary: 'LoRA+: LoRA with lora_B (and 1-D tensors) at lr × ratio (default 16).',
  useDora: (c) => c.useDora,
  paramGroup: loraPlusGroup,
  cascade: () => null,
};
