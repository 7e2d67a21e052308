// The method registry is what the config validation, the studio and the CLI read: each method's
// options, fixed values, defaults and cascade flag must be the ones resolveConfig and the trainer apply.
import { describe, expect, it } from 'vitest';
import { ADAPTERS, DEFAULT_METHOD, METHOD_NAMES, adapterVariant, methodHelp, methodLabel } from '../../../src/adapters/registry';
import { METHOD_OPTIONS } from '../../../src/adapters/variant';
import { ConfigError, DEFAULTS, iterationLength, resolveConfig } from '../../../src/train/config';

/** A value of each method option that differs from its default. */
const OTHER: Record<(typeof METHOD_OPTIONS)[number], unknown> = {
  iterationSteps: 3, restartSchedule: true, alpha: 0.25, lambda: 0.2, noise: 'gaussian', noiseScope: 'all', slow: 'ema', persistentNoise: true,
};

describe('method registry', () => {
  it('names, labels and help come from one table', () => {
    expect(METHOD_NAMES).toEqual(Object.keys(ADAPTERS));
    for (const [key, v] of Object.entries(ADAPTERS)) {
      expect(v.name).toBe(key);
      expect(methodLabel(key)).toBe(v.label);
      expect(methodHelp()).toContain(key);
    }
    expect(DEFAULTS.method).toBe(DEFAULT_METHOD);
    expect(methodLabel('sgd')).toBe('sgd');
    expect(() => adapterVariant('sgd')).toThrow(/unknown method "sgd"/);
  });

  for (const name of METHOD_NAMES) {
    const v = ADAPTERS[name];
    it(`${v.name}: the options it does not read are refused with its reason; the ones it reads are taken`, () => {
      for (const f of METHOD_OPTIONS) {
        const partial = { method: name, [f]: OTHER[f] } as Parameters<typeof resolveConfig>[0];
        if (v.reads.includes(f) && !(f in v.fixed)) {
          expect(resolveConfig(partial)[f], f).toEqual(OTHER[f]);
        } else {
          let err: unknown;
          try { resolveConfig(partial); } catch (e) { err = e; }
          expect(err, f).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).field).toBe(f);
          expect((err as ConfigError).message).toContain(v.refusal(f));
        }
      }
      const c = resolveConfig({ method: name });
      for (const [k, x] of Object.entries(v.fixed)) expect(c[k as keyof typeof c], `fixed ${k}`).toEqual(x);
      for (const [k, x] of Object.entries(v.defaults)) expect(c[k as keyof typeof c], `default ${k}`).toEqual(x);
      expect(v.cascade(c) !== null, 'cascades ⇔ a cascade policy').toBe(v.cascades);
      expect(iterationLength({ method: name, iterationSteps: 0 }, 5, 40)).toBe(v.cascades ? 5 : 40);
    });
  }

  it('a cascade\'s iteration is iterationSteps when set', () => {
    expect(iterationLength({ method: 'lorasc', iterationSteps: 7 }, 5, 40)).toBe(7);
    expect(iterationLength({ method: 'lora', iterationSteps: 7 }, 5, 40)).toBe(40);
  });
});
