// COLA, Chain of LoRA (Xia et al. 2024): train a fresh LoRA (fresh optimizer state) per link, merge it
// whole into the backbone at each knot (W ← W + s·B·A), repeat. Knots: one per epoch, or every
// iterationSteps steps. It is the cascade with α = 1 and no noise.
import { type AdapterVariant, loraPlusGroup } from './variant';

export const cola: AdapterVariant = {
  name: 'cola',
  label: 'COLA',
  summary: 'COLA: a chain of LoRAs, each merged into the backbone at a knot, then a fresh one.',
  useDora: (c) => c.useDora,
  reads: ['iterationSteps', 'restartSchedule', 'alpha'],
  refusal: (o) => (o === 'alpha' ? 'COLA merges whole experts (α = 1); use method lorasc for α < 1' : 'is a LoRASC option; COLA has no noise or slow rule (use method lorasc)'),
  fixed: { alpha: 1, lambda: 0, slow: 'lookahead', persistentNoise: false },
  defaults: {},
  cascades: true,
  form: {
    legend: 'COLA: chain of LoRAs',
    fields: [
      { key: 'iterationSteps', kind: 'number', label: 'Steps per iteration (0 = epoch)', step: 1, min: 0 },
      { key: 'restartSchedule', kind: 'check', label: 'Restart the lr schedule per link' },
    ],
  },
  paramGroup: loraPlusGroup,
  cascade: () => ({ alpha: 1, slow: 'lookahead', noise: null }),
};
