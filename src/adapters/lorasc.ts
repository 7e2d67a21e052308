// LoRASC, LoRA Slow Cascaded learning (Li et al. 2024, docs/method.md#lorasc): per iteration a fresh fast expert
// trains on the backbone plus fresh noise ε_t; α of it joins the slow update S; the backbone becomes
// W0 + S and the noise is discarded (unless persistentNoise). Every [choice] is a config option.
import { type AdapterVariant, loraPlusGroup } from './variant';

export const lorasc: AdapterVariant = {
  name: 'lorasc',
  summary: 'LoRASC: fast LoRA experts on a noisy frozen backbone, merged into a slow update with pace α.',
  useDora: (c) => c.useDora,
  paramGroup: loraPlusGroup,
  cascade: (c) => ({
    alpha: c.alpha,
    slow: c.slow,
    noise: c.lambda > 0
      ? { lambda: c.lambda, form: c.noise, scope: c.noiseScope, persistent: c.persistentNoise }
      : null,
  }),
};
