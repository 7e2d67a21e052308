// PEFT adapter folders: key names and file format (docs/formats.md#adapter-tensors), build → read round trips on the
// committed tiny GPT-2 and ViT checkpoints, and every refusal rule of readAdapterDir / buildAdapterFiles.
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedGpt2, type LoadedVit, sourceFromMap } from '../../../src/io/hfModel';
import {
  type AdapterConfigOptions, buildAdapterFiles, loraModules, readAdapterDir, writeAdapterConfig,
} from '../../../src/io/peft';
import { readSafetensors, writeSafetensors } from '../../../src/io/safetensors';
import { expectRefusal, loadGpt2Tiny, loadVitTiny, loraTensors, type PeftTensors, seeded } from './helpers';

// gpt2_tiny: C 48, L 2, I 192 (c_attn 48 → 144, c_proj 48 → 48, c_fc 48 → 192, mlp.c_proj 192 → 48).
// vit_tiny: C 48, L 2, I 96, 5 classes.
const R = 4;
const gptConfig: AdapterConfigOptions = {
  modelKind: 'gpt2', baseModelNameOrPath: 'test/fixtures/gpt2_tiny', r: R, loraAlpha: 8, loraDropout: 0,
  targetModules: ['c_attn', 'mlp.c_proj'], useRslora: false, useDora: false, modulesToSave: null,
};
const gptModules = [0, 1].flatMap((i) => [
  { path: `transformer.h.${i}.attn.c_attn`, IN: 48, OUT: 144 },
  { path: `transformer.h.${i}.mlp.c_proj`, IN: 192, OUT: 48 },
]);
const vitConfig: AdapterConfigOptions = {
  modelKind: 'vit', baseModelNameOrPath: 'test/fixtures/vit_tiny', r: R, loraAlpha: 16, loraDropout: 0.1,
  targetModules: ['query', 'value', 'output.dense'], useRslora: true, useDora: false, modulesToSave: ['classifier'],
};

let gpt2: LoadedGpt2;
let vit: LoadedVit;
beforeAll(async () => {
  gpt2 = await loadGpt2Tiny();
  vit = await loadVitTiny();
});

const folder = (files: Map<string, Uint8Array | string>) => sourceFromMap(files);

/** A folder whose adapter_model.safetensors holds `tensors` as given (no export-side checks). */
function rawFolder(config: AdapterConfigOptions | string, tensors: PeftTensors, rejectNonFinite = true) {
  const text = typeof config === 'string' ? config : writeAdapterConfig(config);
  return folder(new Map<string, Uint8Array | string>([
    ['adapter_config.json', text],
    ['adapter_model.safetensors', writeSafetensors(tensors, { rejectNonFinite })],
  ]));
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe('buildAdapterFiles', () => {
  it('writes PEFT key names, F32 tensors and {"format":"pt"} with the canonical writer', () => {
    const tensors = loraTensors(gptModules, R, true);
    const files = buildAdapterFiles({ config: { ...gptConfig, useDora: true }, tensors, trainingArgs: { loraplus_lr_ratio: 16 } });
    expect([...files.keys()]).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'training_args.json']);
    const st = readSafetensors(files.get('adapter_model.safetensors') as Uint8Array);
    expect([...(st.metadata ?? [])]).toEqual([['format', 'pt']]);
    expect([...st.tensors.keys()]).toEqual([
      'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight',
      'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight',
      'base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector',
      'base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight',
      'base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight',
      'base_model.model.transformer.h.0.mlp.c_proj.lora_magnitude_vector',
      'base_model.model.transformer.h.1.attn.c_attn.lora_A.weight',
      'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight',
      'base_model.model.transformer.h.1.attn.c_attn.lora_magnitude_vector',
      'base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight',
      'base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight',
      'base_model.model.transformer.h.1.mlp.c_proj.lora_magnitude_vector',
    ]);
    for (const t of st.tensors.values()) expect(t.dtype).toBe('F32');
    expect(st.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight').shape).toEqual([R, 48]);
    expect(st.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight').shape).toEqual([144, R]);
    expect(st.get('base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector').shape).toEqual([144]);
    expect(new TextDecoder().decode(files.get('training_args.json'))).toBe('{\n  "loraplus_lr_ratio": 16\n}');
    expect(new TextDecoder().decode(files.get('adapter_config.json'))).toBe(writeAdapterConfig({ ...gptConfig, useDora: true }));
  });

  it('refuses non-finite values at write (EXPORT_NONFINITE, naming the tensor)', async () => {
    const tensors = loraTensors(gptModules, R);
    const key = 'base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight';
    (tensors.get(key) as { data: Float32Array }).data[3] = NaN;
    await expectRefusal(() => buildAdapterFiles({ config: gptConfig, tensors }), { code: 'EXPORT_NONFINITE', key });
  });

  it('refuses keys and tensor sets PEFT could not load', async () => {
    const build = (mutate: (t: PeftTensors) => void, config = gptConfig) => () => {
      const t = loraTensors(gptModules, R);
      mutate(t);
      return buildAdapterFiles({ config, tensors: t });
    };
    const a0 = 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight';
    const b0 = 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight';
    await expectRefusal(build((t) => t.delete(b0)), { code: 'EXPORT_INVALID', key: b0 });
    await expectRefusal(build((t) => t.set(a0, seeded([R + 1, 48]))), { code: 'EXPORT_INVALID', key: a0 });
    const def = 'base_model.model.transformer.h.0.attn.c_proj.lora_A.default.weight';
    await expectRefusal(build((t) => t.set(def, seeded([R, 48]))), { code: 'EXPORT_INVALID', key: def, message: /\.default/ });
    const untargeted = 'base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight';
    await expectRefusal(build((t) => t.set(untargeted, seeded([R, 48]))), { code: 'EXPORT_INVALID', key: untargeted });
    await expectRefusal(build(() => {}, { ...gptConfig, useDora: true }), { code: 'EXPORT_INVALID', message: /lora_magnitude_vector/ });
  });
});

describe('readAdapterDir round trip', () => {
  it('GPT-2 LoRA: build → read gives the same tensors, scale and modules in model order', async () => {
    const tensors = loraTensors(gptModules, R);
    const got = await readAdapterDir(folder(buildAdapterFiles({ config: gptConfig, tensors })), gpt2);
    expect(got.scale).toBe(8 / R);
    expect(got.warnings).toEqual([]);
    expect(got.modules.map((m) => [m.path, m.weight, m.layout, m.IN, m.OUT, m.r])).toEqual([
      ['transformer.h.0.attn.c_attn', 'h.0.attn.c_attn.weight', 'conv1d', 48, 144, R],
      ['transformer.h.0.mlp.c_proj', 'h.0.mlp.c_proj.weight', 'conv1d', 192, 48, R],
      ['transformer.h.1.attn.c_attn', 'h.1.attn.c_attn.weight', 'conv1d', 48, 144, R],
      ['transformer.h.1.mlp.c_proj', 'h.1.mlp.c_proj.weight', 'conv1d', 192, 48, R],
    ]);
    for (const m of got.modules) {
      expect(bitwiseEqual(m.A, tensors.get(`base_model.model.${m.path}.lora_A.weight`)?.data as Float32Array)).toBe(true);
      expect(bitwiseEqual(m.B, tensors.get(`base_model.model.${m.path}.lora_B.weight`)?.data as Float32Array)).toBe(true);
      expect(m.magnitude).toBeUndefined();
    }
  });

  it('GPT-2 DoRA: magnitudes come back; rsLoRA scale is alpha / sqrt(r)', async () => {
    const tensors = loraTensors(gptModules, R, true);
    const config = { ...gptConfig, useDora: true, useRslora: true };
    const got = await readAdapterDir(folder(buildAdapterFiles({ config, tensors })), gpt2);
    expect(got.scale).toBe(8 / Math.sqrt(R));
    for (const m of got.modules) {
      expect(bitwiseEqual(m.magnitude as Float32Array, tensors.get(`base_model.model.${m.path}.lora_magnitude_vector`)?.data as Float32Array)).toBe(true);
    }
  });

  it('ViT with modules_to_save ["classifier"]: nn.Linear shapes and the head', async () => {
    const mods = loraModules(vit).filter((m) => /\.(query|value|output\.dense)$/.test(m.path));
    expect(mods.map((m) => m.path)).toContain('vit.encoder.layer.0.attention.output.dense');
    expect(mods.map((m) => m.path)).toContain('vit.encoder.layer.1.output.dense');
    const tensors = loraTensors(mods, R);
    tensors.set('base_model.model.classifier.weight', seeded([5, 48]));
    tensors.set('base_model.model.classifier.bias', seeded([5]));
    const got = await readAdapterDir(folder(buildAdapterFiles({ config: vitConfig, tensors })), vit);
    expect(got.scale).toBe(16 / Math.sqrt(R));
    expect(got.modules).toHaveLength(8);
    const out = got.modules.find((m) => m.path === 'vit.encoder.layer.1.output.dense');
    expect(out).toMatchObject({ layout: 'linear', IN: 96, OUT: 48, weight: 'encoder.layer.1.output.dense.weight' });
    expect(got.classifier?.numClasses).toBe(5);
    expect(bitwiseEqual(got.classifier?.weight as Float32Array, tensors.get('base_model.model.classifier.weight')?.data as Float32Array)).toBe(true);
  });

  it('warns about targeted modules without tensors and about unknown config keys', async () => {
    const tensors = loraTensors(gptModules.slice(0, 1), R);
    const config = JSON.stringify({ ...JSON.parse(writeAdapterConfig(gptConfig)), future_key: true });
    const got = await readAdapterDir(rawFolder(config, tensors), gpt2);
    expect(got.modules).toHaveLength(1);
    expect(got.warnings.join('\n')).toMatch(/future_key/);
    expect(got.warnings.join('\n')).toMatch(/3 targeted module/);
  });
});

describe('readAdapterDir refusals', () => {
  const W = 'adapter_model.safetensors';
  const a0 = 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight';
  const b0 = 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight';
  const read = (tensors: PeftTensors, config: AdapterConfigOptions | string = gptConfig) => () => readAdapterDir(rawFolder(config, tensors), gpt2);
  const base = () => loraTensors(gptModules, R);

  it('wrong shape', async () => {
    const t = base();
    t.set(b0, seeded([145, R]));
    await expectRefusal(read(t), { name: 'PeftError', code: 'ADAPTER_SHAPE', key: b0, file: W, message: /\[144, 4\]/ });
    const u = base();
    u.set(a0, seeded([R, 144])); // [r, out]: a Conv1D read as nn.Linear
    await expectRefusal(read(u), { code: 'ADAPTER_SHAPE', key: a0 });
  });

  it('missing lora_B', async () => {
    const t = base();
    t.delete(b0);
    await expectRefusal(read(t), { code: 'ADAPTER_INCOMPLETE', key: b0, file: W });
  });

  it('unknown module (layer beyond the model, transformers-5 ViT names)', async () => {
    const t = base();
    const key = 'base_model.model.transformer.h.7.attn.c_attn.lora_A.weight';
    t.set(key, seeded([R, 48]));
    await expectRefusal(read(t), { code: 'ADAPTER_MODULE', key, file: W });
    const bare = 'base_model.model.h.0.attn.c_attn.lora_A.weight'; // no transformer.: not the PeftModel path
    const u = base();
    u.set(bare, seeded([R, 48]));
    await expectRefusal(read(u), { code: 'ADAPTER_MODULE', key: bare });
  });

  it('module not matched by target_modules', async () => {
    const t = base();
    const key = 'base_model.model.transformer.h.0.attn.c_proj.lora_A.weight';
    t.set(key, seeded([R, 48]));
    t.set('base_model.model.transformer.h.0.attn.c_proj.lora_B.weight', seeded([48, R]));
    await expectRefusal(read(t), { code: 'ADAPTER_UNTARGETED', key });
    // A regex target that covers it is accepted.
    const got = await readAdapterDir(rawFolder({ ...gptConfig, targetModules: '.*\\.(c_attn|c_proj)' }, t), gpt2);
    expect(got.modules).toHaveLength(5);
  });

  it('unrecognised keys, keys with the adapter name, magnitude with .weight', async () => {
    const t = base();
    t.set('base_model.model.transformer.h.0.attn.c_attn.weight', seeded([48, 144]));
    await expectRefusal(read(t), { code: 'ADAPTER_KEY', key: 'base_model.model.transformer.h.0.attn.c_attn.weight', message: /unrecognised key/ });
    const u = base();
    u.delete(a0);
    u.set('base_model.model.transformer.h.0.attn.c_attn.lora_A.default.weight', seeded([R, 48]));
    await expectRefusal(read(u), { code: 'ADAPTER_KEY', key: 'base_model.model.transformer.h.0.attn.c_attn.lora_A.default.weight', message: /state_dict/ });
    const v = loraTensors(gptModules, R);
    v.set('base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector.weight', seeded([144]));
    await expectRefusal(read(v, { ...gptConfig, useDora: true }), { code: 'ADAPTER_KEY', message: /without "\.weight"/ });
  });

  it('DoRA magnitude present iff use_dora', async () => {
    const t = loraTensors(gptModules, R, true);
    await expectRefusal(read(t), { code: 'ADAPTER_INCOMPLETE', key: 'base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector', message: /use_dora is false/ });
    await expectRefusal(read(base(), { ...gptConfig, useDora: true }), { code: 'ADAPTER_INCOMPLETE', message: /use_dora is true/ });
    const u = loraTensors(gptModules, R, true);
    u.set('base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector', seeded([48]));
    await expectRefusal(read(u, { ...gptConfig, useDora: true }), { code: 'ADAPTER_SHAPE' });
  });

  it('non-finite adapter weights', async () => {
    const t = base();
    (t.get(a0) as { data: Float32Array }).data[5] = Infinity;
    await expectRefusal(() => readAdapterDir(rawFolder(gptConfig, t, false), gpt2), { code: 'ADAPTER_NONFINITE', key: a0, message: /first at index 5/ });
  });

  it('pickle adapters and missing files', async () => {
    const pickle = folder(new Map<string, Uint8Array | string>([['adapter_config.json', writeAdapterConfig(gptConfig)], ['adapter_model.bin', new Uint8Array([0x80, 2])]]));
    await expectRefusal(() => readAdapterDir(pickle, gpt2), { code: 'ADAPTER_FORMAT', file: 'adapter_model.bin' });
    const noConfig = folder(new Map([['adapter_model.safetensors', writeSafetensors(base())]]));
    await expectRefusal(() => readAdapterDir(noConfig, gpt2), { code: 'ADAPTER_MISSING', file: 'adapter_config.json' });
    const noWeights = folder(new Map([['adapter_config.json', writeAdapterConfig(gptConfig)]]));
    await expectRefusal(() => readAdapterDir(noWeights, gpt2), { code: 'ADAPTER_MISSING', file: W });
  });

  it('config refusals reach the folder reader: bad JSON, peft_type, rank_pattern', async () => {
    await expectRefusal(read(base(), '{"peft_type": "LORA"'), { code: 'ADAPTER_JSON', file: 'adapter_config.json' });
    const json = JSON.parse(writeAdapterConfig(gptConfig));
    await expectRefusal(read(base(), JSON.stringify({ ...json, peft_type: 'LOHA' })), { code: 'ADAPTER_UNSUPPORTED', key: 'peft_type' });
    await expectRefusal(read(base(), JSON.stringify({ ...json, rank_pattern: { c_attn: 2 } })), { code: 'ADAPTER_UNSUPPORTED', key: 'rank_pattern' });
    await expectRefusal(read(base(), JSON.stringify({ ...json, modules_to_save: ['lm_head'] })), { code: 'ADAPTER_UNSUPPORTED', key: 'modules_to_save' });
  });

  it('a corrupt safetensors file is a container error naming the file', async () => {
    const f = folder(new Map<string, Uint8Array | string>([['adapter_config.json', writeAdapterConfig(gptConfig)], ['adapter_model.safetensors', new Uint8Array(4)]]));
    await expectRefusal(() => readAdapterDir(f, gpt2), { code: 'ST_TOO_SMALL', name: 'SafetensorsError' });
  });

  it('ViT: classifier tensors need modules_to_save; the saved head must be complete', async () => {
    const mods = loraModules(vit).filter((m) => m.path.endsWith('.query'));
    const t = loraTensors(mods, R);
    t.set('base_model.model.classifier.weight', seeded([5, 48]));
    const cfg = { ...vitConfig, targetModules: ['query'], modulesToSave: null };
    await expectRefusal(() => readAdapterDir(rawFolder(cfg, t), vit), { code: 'ADAPTER_KEY', key: 'base_model.model.classifier.weight' });
    await expectRefusal(() => readAdapterDir(rawFolder({ ...cfg, modulesToSave: ['classifier'] }, t), vit), { code: 'ADAPTER_INCOMPLETE', key: 'base_model.model.classifier.bias' });
    const noTargets = JSON.stringify({ ...JSON.parse(writeAdapterConfig(cfg)), target_modules: null });
    await expectRefusal(() => readAdapterDir(rawFolder(noTargets, loraTensors(mods, R)), vit), { code: 'ADAPTER_CONFIG', key: 'target_modules' });
  });
});
