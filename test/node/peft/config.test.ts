// adapter_config.json byte for byte as PEFT writes it (json.dumps(asdict, indent=2, sort_keys=True),
// docs/formats.md#adapter-config), training_args.json, Python float/str formatting, and the strict config reader.
import { describe, expect, it } from 'vitest';
import {
  type AdapterConfigOptions, parseAdapterConfig, PyFloat, pyDumps, pyFloatRepr, writeAdapterConfig, writeTrainingArgs,
} from '../../../src/io/peft';
import { expectRefusal } from './helpers';

const gpt2Options: AdapterConfigOptions = {
  modelKind: 'gpt2', baseModelNameOrPath: 'openai-community/gpt2', r: 8, loraAlpha: 16, loraDropout: 0.05,
  targetModules: ['c_attn'], useRslora: false, useDora: false, modulesToSave: null,
};
const vitOptions: AdapterConfigOptions = {
  modelKind: 'vit', baseModelNameOrPath: 'google/vit-base-patch16-224', r: 8, loraAlpha: 16, loraDropout: 0.05,
  targetModules: ['query', 'value'], useRslora: false, useDora: false, modulesToSave: ['classifier'],
};

// docs/formats.md#adapter-config, laid out as Python's json.dumps(indent=2) does (one list item per line, no final newline).
const GPT2_EXPECTED = `{
  "alpha_pattern": {},
  "base_model_name_or_path": "openai-community/gpt2",
  "bias": "none",
  "fan_in_fan_out": true,
  "inference_mode": true,
  "init_lora_weights": true,
  "layers_pattern": null,
  "layers_to_transform": null,
  "lora_alpha": 16,
  "lora_dropout": 0.05,
  "modules_to_save": null,
  "peft_type": "LORA",
  "r": 8,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "c_attn"
  ],
  "task_type": "CAUSAL_LM",
  "use_dora": false,
  "use_rslora": false
}`;

const VIT_EXPECTED = `{
  "alpha_pattern": {},
  "base_model_name_or_path": "google/vit-base-patch16-224",
  "bias": "none",
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layers_pattern": null,
  "layers_to_transform": null,
  "lora_alpha": 16,
  "lora_dropout": 0.05,
  "modules_to_save": [
    "classifier"
  ],
  "peft_type": "LORA",
  "r": 8,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "query",
    "value"
  ],
  "task_type": null,
  "use_dora": false,
  "use_rslora": false
}`;

describe('writeAdapterConfig', () => {
  it('writes the GPT-2 config of docs/formats.md#adapter-config byte for byte', () => {
    expect(writeAdapterConfig(gpt2Options)).toBe(GPT2_EXPECTED);
  });

  it('writes the ViT classification config of docs/formats.md#adapter-config byte for byte', () => {
    expect(writeAdapterConfig(vitOptions)).toBe(VIT_EXPECTED);
  });

  it('writes a zero dropout as the Python float 0.0, rsLoRA/DoRA flags and a regex target', () => {
    const text = writeAdapterConfig({ ...gpt2Options, loraDropout: 0, useRslora: true, useDora: true, targetModules: '.*\\.(c_attn|c_fc)' });
    expect(text).toContain('\n  "lora_dropout": 0.0,\n');
    expect(text).toContain('\n  "target_modules": ".*\\\\.(c_attn|c_fc)",\n');
    expect(text).toContain('\n  "use_dora": true,\n  "use_rslora": true\n}');
    expect(writeAdapterConfig({ ...gpt2Options, loraAlpha: 2.5 })).toContain('"lora_alpha": 2.5,');
  });

  it('refuses values PEFT cannot load', async () => {
    await expectRefusal(() => writeAdapterConfig({ ...gpt2Options, r: 0 }), { code: 'EXPORT_INVALID', key: 'r' });
    await expectRefusal(() => writeAdapterConfig({ ...gpt2Options, r: 2.5 }), { code: 'EXPORT_INVALID', key: 'r' });
    await expectRefusal(() => writeAdapterConfig({ ...gpt2Options, loraDropout: 1 }), { code: 'EXPORT_INVALID', key: 'lora_dropout' });
    await expectRefusal(() => writeAdapterConfig({ ...gpt2Options, loraAlpha: NaN }), { code: 'EXPORT_INVALID', key: 'lora_alpha' });
    await expectRefusal(() => writeAdapterConfig({ ...gpt2Options, targetModules: [] }), { code: 'EXPORT_INVALID', key: 'target_modules' });
  });
});

describe('Python json.dumps formatting', () => {
  it('prints floats as Python repr', () => {
    // Expected strings from CPython 3: [repr(v) for v in values].
    const cases: [number, string][] = [
      [0.05, '0.05'], [0, '0.0'], [1e-5, '1e-05'], [16, '16.0'], [1e16, '1e+16'], [123.456, '123.456'],
      [0.0001, '0.0001'], [2e-4, '0.0002'], [1.5e-7, '1.5e-07'], [1234567890123456.7, '1234567890123456.8'],
      [0.1 + 0.2, '0.30000000000000004'], [-2.5e-10, '-2.5e-10'], [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'], [100, '100.0'], [1e15, '1000000000000000.0'],
      [123456789012345678, '1.2345678901234568e+17'], [-0, '-0.0'],
    ];
    for (const [x, want] of cases) expect(pyFloatRepr(x), String(x)).toBe(want);
    expect(() => pyFloatRepr(NaN)).toThrow(/not a finite number/);
  });

  it('lays out nested values, escapes as ensure_ascii and sorts keys like json.dumps(indent=2, sort_keys=True)', () => {
    const value = { b: [1, { z: new PyFloat(2), a: [] }], a: 'é\u0001"\\\n\u007f😀', c: {}, d: null, e: true, lr: 2e-5, ratio: 16 };
    // CPython 3 output for the same dict.
    const want = `{
  "a": "\\u00e9\\u0001\\"\\\\\\n\\u007f\\ud83d\\ude00",
  "b": [
    1,
    {
      "a": [],
      "z": 2.0
    }
  ],
  "c": {},
  "d": null,
  "e": true,
  "lr": 2e-05,
  "ratio": 16
}`;
    expect(pyDumps(value, { sortKeys: true })).toBe(want);
  });

  it('writes training_args.json with sorted keys and refuses non-finite values', async () => {
    const text = writeTrainingArgs({ variant: 'lorasc', loraplus_lr_ratio: 16, lorasc: { alpha: 0.5, noise_lambda: 1e-3, iterations: 4 } });
    expect(text).toBe(`{
  "loraplus_lr_ratio": 16,
  "lorasc": {
    "alpha": 0.5,
    "iterations": 4,
    "noise_lambda": 0.001
  },
  "variant": "lorasc"
}`);
    await expectRefusal(() => writeTrainingArgs({ lr: Infinity }), { code: 'EXPORT_INVALID', key: '$.lr' });
  });
});

describe('parseAdapterConfig', () => {
  const withKeys = (over: Record<string, unknown>, base = GPT2_EXPECTED) => JSON.stringify({ ...JSON.parse(base), ...over });

  it('reads back what writeAdapterConfig writes', () => {
    const c = parseAdapterConfig(GPT2_EXPECTED);
    expect(c).toMatchObject({
      peftType: 'LORA', taskType: 'CAUSAL_LM', baseModelNameOrPath: 'openai-community/gpt2', r: 8, loraAlpha: 16,
      loraDropout: 0.05, targetModules: ['c_attn'], fanInFanOut: true, useRslora: false, useDora: false, modulesToSave: null,
    });
    expect(c.warnings).toEqual([]);
    expect(parseAdapterConfig(VIT_EXPECTED)).toMatchObject({ taskType: null, modulesToSave: ['classifier'], targetModules: ['query', 'value'] });
  });

  it('turns unknown keys into warnings, as PEFT ≥ 0.14', () => {
    const c = parseAdapterConfig(withKeys({ some_future_key: 1, exclude_modules: null, lora_bias: false }));
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/some_future_key/);
  });

  it('refuses broken JSON and non-objects', async () => {
    await expectRefusal(() => parseAdapterConfig('{"peft_type": "LORA",', 'x/adapter_config.json'), { code: 'ADAPTER_JSON', file: 'x/adapter_config.json' });
    await expectRefusal(() => parseAdapterConfig('[1]'), { code: 'ADAPTER_JSON' });
    await expectRefusal(() => parseAdapterConfig('{"peft_type": "LORA", "peft_type": "LORA"}'), { code: 'ADAPTER_JSON' });
    await expectRefusal(() => parseAdapterConfig(new Uint8Array([0x7b, 0xff, 0x7d])), { code: 'ADAPTER_JSON', message: /UTF-8/ });
  });

  it('requires peft_type "LORA"', async () => {
    await expectRefusal(() => parseAdapterConfig(withKeys({ peft_type: 'IA3' })), { name: 'PeftError', code: 'ADAPTER_UNSUPPORTED', key: 'peft_type', file: 'adapter_config.json' });
    await expectRefusal(() => parseAdapterConfig('{"r": 8}'), { code: 'ADAPTER_CONFIG', key: 'peft_type' });
  });

  it('checks the types of r, lora_alpha, target_modules and the flags', async () => {
    for (const r of [0, -1, 8.5, '8']) await expectRefusal(() => parseAdapterConfig(withKeys({ r })), { code: 'ADAPTER_CONFIG', key: 'r' });
    await expectRefusal(() => parseAdapterConfig(withKeys({}).replace('"r":8', '"r":8.0')), { code: 'ADAPTER_CONFIG', key: 'r' });
    await expectRefusal(() => parseAdapterConfig(withKeys({ lora_alpha: '16' })), { code: 'ADAPTER_CONFIG', key: 'lora_alpha' });
    await expectRefusal(() => parseAdapterConfig(withKeys({ target_modules: 5 })), { code: 'ADAPTER_CONFIG', key: 'target_modules' });
    await expectRefusal(() => parseAdapterConfig(withKeys({ target_modules: [] })), { code: 'ADAPTER_CONFIG', key: 'target_modules' });
    await expectRefusal(() => parseAdapterConfig(withKeys({ use_dora: 'yes' })), { code: 'ADAPTER_CONFIG', key: 'use_dora' });
    await expectRefusal(() => parseAdapterConfig(withKeys({ use_rslora: 1 })), { code: 'ADAPTER_CONFIG', key: 'use_rslora' });
    expect(parseAdapterConfig(withKeys({ target_modules: '.*c_attn' })).targetModules).toBe('.*c_attn');
    expect(parseAdapterConfig(withKeys({ lora_alpha: 16.5 })).loraAlpha).toBe(16.5);
  });

  it('refuses features that change the maths, naming the key', async () => {
    const cases: [string, unknown][] = [
      ['rank_pattern', { 'h.0.attn.c_attn': 4 }], ['alpha_pattern', { c_attn: 32 }], ['layers_to_transform', [0]],
      ['layers_to_transform', 1], ['bias', 'all'], ['bias', 'lora_only'], ['lora_bias', true], ['use_qalora', true],
      ['layer_replication', [[0, 1]]], ['target_parameters', ['mlp.experts.weight']], ['trainable_token_indices', [1, 2]],
    ];
    for (const [key, value] of cases) {
      await expectRefusal(() => parseAdapterConfig(withKeys({ [key]: value })), { code: 'ADAPTER_UNSUPPORTED', key });
    }
    await expectRefusal(() => parseAdapterConfig(withKeys({ bias: 'some' })), { code: 'ADAPTER_CONFIG', key: 'bias' });
  });
});
