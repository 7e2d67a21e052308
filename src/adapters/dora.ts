// DoRA (Liu et al. 2024): y = (m / ‖W0 + s·B·A‖_row) ⊙ (W0·x + s·B·A·x) + b, the row norm detached in
// backward; m trainable, initialised to ‖W0‖_row so the adapter starts as a no-op. The layer itself is
// the model's (src/model, dora_* kernels); this variant only selects it.
import { type AdapterVariant, loraPlusGroup, singleAdapterRefusal } from './variant';

export const dora: AdapterVariant = {
  name: 'dora',
  label: 'DoRA',
  summary: 'DoRA: LoRA direction plus a trainable per-row magnitude (weight-decomposed).',
  useDora: () => true,
  reads: [],
  refusal: singleAdapterRefusal('dora'),
  fixed: { useDora: true },
  defaults: {},
  cascades: false,
  form: null,
  paramGroup: loraPlusGroup,
  cascade: () => null,
};
