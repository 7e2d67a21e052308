// Property-based fuzzing of adapter_config.json (docs/failure-scenarios.md#g2, #clear-errors): configurations
// written by writeAdapterConfig from generated options must parse back to the same values; mutated ones
// (keys removed, renamed, duplicated; wrong types; hostile numbers; unsupported PEFT features switched
// on; deep nesting; non-UTF-8 bytes, BOMs, truncation) must give an AdapterConfig whose numbers are
// usable, or a PeftError with an adapter-config code — never a TypeError, RangeError or SyntaxError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Verdicts } from './verdicts';
import { parseAdapterConfig, PeftError, writeAdapterConfig, type AdapterConfig, type AdapterConfigOptions } from '../../../src/io/peft';
import { applyBytes, applyTree, byteMutation, params, parseJ, stringify, treeMutation, type ByteMutation } from './json';

const NUM_RUNS = { roundTrip: 500, mutants: 3000 } as const;
const SEED = { roundTrip: 0x9ef71, mutants: 0x9ef72 } as const;

const moduleName = fc.constantFrom('c_attn', 'c_proj', 'c_fc', 'query', 'key', 'value', 'dense', 'classifier');
const optionsArb: fc.Arbitrary<AdapterConfigOptions> = fc.record({
  modelKind: fc.constantFrom('gpt2' as const, 'vit' as const),
  baseModelNameOrPath: fc.string({ unit: 'binary', maxLength: 12 }),
  r: fc.integer({ min: 1, max: 1024 }),
  loraAlpha: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
  loraDropout: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.99, noNaN: true })),
  targetModules: fc.oneof(fc.uniqueArray(moduleName, { minLength: 1, maxLength: 4 }), fc.constant('.*\\.(c_attn|c_fc)')),
  useRslora: fc.boolean(),
  useDora: fc.boolean(),
  modulesToSave: fc.option(fc.constant(['classifier']), { nil: null }),
});

const KEYS = [
  'peft_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'exclude_modules', 'modules_to_save', 'bias', 'use_rslora', 'use_dora',
  'rank_pattern', 'alpha_pattern', 'layers_to_transform', 'layers_pattern', 'lora_bias', 'use_qalora', 'fan_in_fan_out', 'task_type', 'inference_mode',
];

function checkParsed(c: AdapterConfig): void {
  expect(Number.isSafeInteger(c.r) && c.r >= 1, `r ${c.r}`).toBe(true);
  expect(Number.isFinite(c.loraAlpha), `lora_alpha ${c.loraAlpha}`).toBe(true);
  expect(c.loraDropout >= 0 && c.loraDropout <= 1, `lora_dropout ${c.loraDropout}`).toBe(true);
  const t = c.targetModules;
  expect(t === null || typeof t === 'string' || (Array.isArray(t) && t.every((s) => typeof s === 'string'))).toBe(true);
}

describe('adapter_config.json fuzz (fast-check)', () => {
  it(`writeAdapterConfig → parseAdapterConfig keeps every value (${NUM_RUNS.roundTrip} runs, seed ${SEED.roundTrip})`, () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const c = parseAdapterConfig(writeAdapterConfig(o));
        expect(c.r).toBe(o.r);
        expect(c.loraAlpha).toBe(o.loraAlpha);
        expect(c.loraDropout).toBe(o.loraDropout);
        expect(c.targetModules).toEqual(o.targetModules);
        expect([c.useRslora, c.useDora, c.baseModelNameOrPath]).toEqual([o.useRslora, o.useDora, o.baseModelNameOrPath]);
        expect(c.modulesToSave).toEqual(o.modulesToSave);
        checkParsed(c);
      }),
      params(SEED.roundTrip, NUM_RUNS.roundTrip),
    );
  });

  it(`mutated adapter_config.json: a usable config or a PeftError (${NUM_RUNS.mutants} runs, seed ${SEED.mutants})`, () => {
    const verdicts = new Verdicts();
    fc.assert(
      fc.property(optionsArb, fc.array(treeMutation(KEYS), { minLength: 1, maxLength: 3 }), fc.array(byteMutation, { maxLength: 1 }), (o, ms, bs: ByteMutation[]) => {
        const holder = { root: parseJ(writeAdapterConfig(o)) };
        for (const m of ms) applyTree(holder, m);
        let b: Uint8Array = new TextEncoder().encode(stringify(holder.root));
        for (const m of bs) b = applyBytes(b, m);
        let c: AdapterConfig;
        try {
          c = parseAdapterConfig(b);
        } catch (err) {
          if (!(err instanceof PeftError)) throw new Error(`untyped error leaked: ${String(err)}`, { cause: err });
          expect(['ADAPTER_JSON', 'ADAPTER_CONFIG', 'ADAPTER_UNSUPPORTED'], err.message).toContain(err.code);
          verdicts.add(err.code);
          return;
        }
        checkParsed(c);
        verdicts.add('parsed');
      }),
      params(SEED.mutants, NUM_RUNS.mutants),
    );
    verdicts.expectExactly(['parsed', 'ADAPTER_CONFIG', 'ADAPTER_JSON', 'ADAPTER_UNSUPPORTED']);
    expect(verdicts.count('parsed')).toBeGreaterThan(NUM_RUNS.mutants / 20);
  });
});
