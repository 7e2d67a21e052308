// COLA, Chain of LoRA (Xia et al. 2024): train a fresh LoRA (fresh optimizer state) per link, merge it
// whole into the backbone at each knot (W ← W + s·B·A), repeat. Knots: one per epoch, or every
// iterationSteps steps. It is the cascade with α = 1 and no noise.
import { type AdapterVariant, loraPlusGroup } from './variant';

export const cola: AdapterVariant = {
  name: 'cola',
  summary: 'COLA: a chain of LoRAs, each merged into the backbone at a knot, then a fresh one.',
  useDora: (c) => c.useDora,
  paramGroup: loraPlusGroup,
  cascade: () => ({ alpha: 1, slow: 'lookahead', noise: null }),
};
