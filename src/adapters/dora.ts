// DoRA (Liu et al. 2024): y = (m / ‖W0 + s·B·A‖_row) ⊙ (W0·x + s·B·A·x) + b, the row norm detached in
// backward; m trainable, initialised to ‖W0‖_row so the adapter starts as a no-op. The layer itself is
// the model's (src/model, dora_* kernels); this variant only selects it.
import { type AdapterVariant, loraPlusGroup } from './variant';

export const dora: AdapterVariant = {
  name: 'dora',
  summary: 'DoRA: LoRA direction plus a trainable per-row magnitude (weight-decomposed).',
  useDora: () => true,
  paramGroup: loraPlusGroup,
  cascade: () => null,
};
