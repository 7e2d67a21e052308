// LoRA as HF PEFT implements it: y = W0·x + b + s·B·A·x, A kaiming-uniform, B = 0 (docs/method.md#lora).
// rsLoRA is the scale option (useRslora); LoRA+ groups apply when loraplusRatio is set.
import { type AdapterVariant, loraPlusGroup, singleAdapterRefusal } from './variant';

export const lora: AdapterVariant = {
  name: 'lora',
  label: 'LoRA',
  summary: 'LoRA: one low-rank adapter B·A trained on the frozen base (PEFT init and scaling).',
  useDora: (c) => c.useDora,
  reads: [],
  refusal: singleAdapterRefusal('lora'),
  fixed: {},
  defaults: {},
  cascades: false,
  form: null,
  paramGroup: loraPlusGroup,
  cascade: () => null,
};
