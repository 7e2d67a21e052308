// LoRA as HF PEFT implements it: y = W0·x + b + s·B·A·x, A kaiming-uniform, B = 0 (docs/method.md#lora).
// rsLoRA is the scale option (useRslora); LoRA+ groups apply when loraplusRatio is set.
import { type AdapterVariant, loraPlusGroup } from './variant';

export const lora: AdapterVariant = {
  name: 'lora',
  summary: 'LoRA: one low-rank adapter B·A trained on the frozen base (PEFT init and scaling).',
  useDora: (c) => c.useDora,
  paramGroup: loraPlusGroup,
  cascade: () => null,
};
