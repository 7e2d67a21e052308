// LoRASC, LoRA Slow Cascaded learning (Li et al. 2024, docs/method.md#lorasc): per iteration a fresh fast expert
// trains on the backbone plus fresh noise ε_t; α of it joins the slow update S; the backbone becomes
// W0 + S and the noise is discarded (unless persistentNoise). Every [choice] is a config option.
import { type AdapterVariant, loraPlusGroup } from './variant';

export const lorasc: AdapterVariant = {
  name: 'lorasc',
  label: 'LoRASC',
  summary: 'LoRASC: fast LoRA experts on a noisy frozen backbone, merged into a slow update with pace α.',
  useDora: (c) => c.useDora,
  reads: ['iterationSteps', 'restartSchedule', 'alpha', 'lambda', 'noise', 'noiseScope', 'slow', 'persistentNoise'],
  refusal: () => 'unreachable: LoRASC reads every method option',
  fixed: {},
  defaults: {},
  cascades: true,
  form: {
    legend: 'LoRASC: cascade, noise and slow-fast merge',
    fields: [
      { key: 'iterationSteps', kind: 'number', label: 'Steps per iteration (0 = epoch)', step: 1, min: 0 },
      { key: 'alpha', kind: 'number', label: 'Pace α', title: 'slow ← slow + α · fast' },
      { key: 'lambda', kind: 'number', label: 'Noise λ', title: 'NoisyTune U(−λ/2, λ/2)·std(W); 0 = off' },
      { key: 'noise', kind: 'select', label: 'Noise form', options: [['uniform', 'uniform'], ['gaussian', 'gaussian']] },
      { key: 'noiseScope', kind: 'select', label: 'Noise on', options: [['targets', 'target weights'], ['all', 'all linear weights']] },
      { key: 'slow', kind: 'select', label: 'Slow rule', options: [['lookahead', 'lookahead'], ['ema', 'ema']] },
      { key: 'persistentNoise', kind: 'check', label: 'Persistent noise' },
    ],
  },
  paramGroup: loraPlusGroup,
  cascade: (c) => ({
    alpha: c.alpha,
    slow: c.slow,
    noise: c.lambda > 0
      ? { lambda: c.lambda, form: c.noise, scope: c.noiseScope, persistent: c.persistentNoise }
      : null,
  }),
};
