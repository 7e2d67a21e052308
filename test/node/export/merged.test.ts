// Merged checkpoint folders (docs/formats.md#export-merged), re-read with the model loader: same original names
// and prefix, same buffers, merged values, F32, config.json with torch_dtype float32 and a new ViT head's
// labels, companions byte for byte, and transformers' sharding rule with its index.
import { describe, expect, it } from 'vitest';
import { buildMergedModelFiles, mergeDelta } from '../../../src/io/export';
import { type LoadedGpt2, type LoadedModel, type LoadedVit, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { buildAdapterFiles, loraModules, readAdapterDir } from '../../../src/io/peft';
import { readSafetensors } from '../../../src/io/safetensors';
import { folder, gpt2Config, gpt2Tensors, vitConfig, vitTensors } from '../hfModel/fixtures';
import { fixtureFiles, loadGpt2Tiny, loadVitTiny, loraTensors, seeded } from '../peft/helpers';

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const reload = (files: Map<string, Uint8Array>, numClasses?: number) => loadModelDir(sourceFromMap(files), { numClasses });

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** Every canonical tensor of `m` equals `want(name)` bit for bit, under the same original key as `base`. */
function expectTensors(m: LoadedModel, base: LoadedModel, want: (name: string) => Float32Array): void {
  expect([...m.tensors.keys()]).toEqual([...base.tensors.keys()]);
  for (const [name, t] of m.tensors) {
    expect(m.originalKeys.get(name), name).toBe(base.originalKeys.get(name));
    expect(t.dtype).toBe('F32');
    expect(sameBits(t.data, want(name)), name).toBe(true);
  }
}

/** Merges an imported adapter into the base with mergeDelta: canonical name → W'. */
async function mergeAdapter(model: LoadedGpt2 | LoadedVit, files: Map<string, Uint8Array>): Promise<Map<string, Float32Array>> {
  const adapter = await readAdapterDir(sourceFromMap(files), model);
  const merged = new Map<string, Float32Array>();
  for (const m of adapter.modules) {
    const W = model.tensors.get(m.weight)?.data as Float32Array;
    merged.set(m.weight, mergeDelta(W, m.layout, m.IN, m.OUT, m.B, m.A, m.r, adapter.scale));
  }
  return merged;
}

describe('buildMergedModelFiles: GPT-2', () => {
  it('test/fixtures/gpt2_tiny: merged tensors under the same original names, companions copied', async () => {
    const base = await loadGpt2Tiny();
    const mods = loraModules(base).filter((m) => m.path.endsWith('attn.c_attn'));
    const adapterFiles = buildAdapterFiles({
      config: { modelKind: 'gpt2', baseModelNameOrPath: 'gpt2_tiny', r: 2, loraAlpha: 4, loraDropout: 0, targetModules: ['c_attn'], useRslora: false, useDora: false, modulesToSave: null },
      tensors: loraTensors(mods, 2),
    });
    const merged = await mergeAdapter(base, adapterFiles);
    expect([...merged.keys()]).toEqual(['h.0.attn.c_attn.weight', 'h.1.attn.c_attn.weight']);
    const vocab = '{"a": 0}';
    const merges = new Uint8Array([0x23, 0x76, 0x65, 0x72, 0x0a, 0xc3, 0xa9]); // "#ver\né"
    const companions = new Map<string, Uint8Array | string>([
      ['config.json', (fixtureFiles('gpt2_tiny').get('config.json') as Uint8Array)], ['vocab.json', vocab], ['merges.txt', merges],
    ]);
    const files = buildMergedModelFiles({ model: base, merged, companions });
    expect([...files.keys()]).toEqual(['model.safetensors', 'config.json', 'vocab.json', 'merges.txt']);
    expect(text(files.get('vocab.json'))).toBe(vocab);
    expect(files.get('merges.txt')).toEqual(merges);
    const st = readSafetensors(files.get('model.safetensors') as Uint8Array);
    expect([...(st.metadata ?? [])]).toEqual([['format', 'pt']]);
    expect([...st.tensors.keys()].every((k) => k.startsWith('transformer.'))).toBe(true); // prefix kept
    const again = await reload(files);
    expectTensors(again, base, (name) => merged.get(name) ?? (base.tensors.get(name)?.data as Float32Array));
    expect(sameBits(again.tensors.get('h.0.attn.c_attn.weight')?.data as Float32Array, base.tensors.get('h.0.attn.c_attn.weight')?.data as Float32Array)).toBe(false);
    // config.json: same keys in the same order, torch_dtype float32, Python number text kept.
    const cfg = text(files.get('config.json'));
    expect(Object.keys(JSON.parse(cfg))).toEqual(Object.keys(JSON.parse(text(fixtureFiles('gpt2_tiny').get('config.json')))));
    expect(cfg).toContain('\n  "layer_norm_epsilon": 1e-05,\n');
    expect(cfg).toContain('\n  "resid_pdrop": 0.0,\n');
    expect(cfg).toContain('\n  "torch_dtype": "float32"\n}\n');
    expect(cfg).toContain('  "architectures": [\n    "GPT2LMHeadModel"\n  ],\n');
  });

  it('bare names and attn.bias / masked_bias buffers come back unchanged; torch_dtype is set', async () => {
    const t = gpt2Tensors({ prefix: false, buffers: true });
    const src = folder(gpt2Config({ torch_dtype: 'bfloat16' }), t);
    const base = (await loadModelDir(sourceFromMap(src))) as LoadedGpt2;
    expect(base.passthrough.size).toBe(4);
    const merged = new Map([['h.1.mlp.c_fc.weight', seeded([48, 192]).data]]);
    const files = buildMergedModelFiles({ model: base, merged, companions: new Map([['config.json', src.get('config.json') as string]]) });
    const again = await reload(files);
    expect(again.prefix).toBe('');
    expectTensors(again, base, (name) => merged.get(name) ?? (base.tensors.get(name)?.data as Float32Array));
    expect([...again.passthrough.keys()].sort()).toEqual([...base.passthrough.keys()].sort());
    for (const [key, p] of base.passthrough) expect(sameBits(again.passthrough.get(key)?.data as Float32Array, p.data), key).toBe(true);
    expect(JSON.parse(text(files.get('config.json'))).torch_dtype).toBe('float32');
    expect(JSON.parse(text(files.get('config.json'))).task_specific_params).toEqual({ 'text-generation': { do_sample: true, max_length: 13 } });
  });

  it('shards as transformers does, with model.safetensors.index.json, and loads back', async () => {
    const base = await loadGpt2Tiny();
    // 48·144·4 = 27648-byte c_attn weights; wte 101·48·4 = 19392 bytes; a 30000-byte limit.
    const files = buildMergedModelFiles({ model: base, merged: new Map(), companions: new Map(), maxShardBytes: 30000 });
    const shards = [...files.keys()].filter((n) => n.startsWith('model-'));
    expect(shards.length).toBeGreaterThan(2);
    expect(shards[0]).toBe(`model-00001-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    expect(files.has('model.safetensors')).toBe(false);
    const indexText = text(files.get('model.safetensors.index.json'));
    const index = JSON.parse(indexText);
    let total = 0;
    for (const t of base.tensors.values()) total += 4 * t.data.length;
    expect(index.metadata).toEqual({ total_size: total });
    const keys = Object.keys(index.weight_map);
    expect(keys).toEqual([...keys].sort());
    expect(indexText.startsWith('{\n  "metadata": {\n    "total_size": ')).toBe(true);
    expect(indexText.endsWith('\n  }\n}\n')).toBe(true);
    for (const name of shards) {
      const st = readSafetensors(files.get(name) as Uint8Array);
      let bytes = 0;
      for (const t of st.tensors.values()) bytes += t.raw.byteLength;
      expect(bytes <= 30000 || st.tensors.size === 1, name).toBe(true);
      for (const k of st.tensors.keys()) expect(index.weight_map[k]).toBe(name);
    }
    const again = await reload(new Map([...files, ['config.json', fixtureFiles('gpt2_tiny').get('config.json') as Uint8Array]]));
    expectTensors(again, base, (name) => base.tensors.get(name)?.data as Float32Array);
    // Under the 5 GB default the same model is one file.
    expect([...buildMergedModelFiles({ model: base, merged: new Map(), companions: new Map() }).keys()]).toEqual(['model.safetensors', 'config.json']);
  });

  it('refuses unknown tensors, wrong sizes, non-finite values and companions named like weights', () => {
    const run = (o: Partial<Parameters<typeof buildMergedModelFiles>[0]>) => async () => {
      const base = await loadGpt2Tiny();
      return buildMergedModelFiles({ model: base, merged: new Map(), companions: new Map(), ...o });
    };
    return Promise.all([
      expect(run({ merged: new Map([['h.9.attn.c_attn.weight', new Float32Array(1)]]) })()).rejects.toThrow(/EXPORT_INVALID.*h\.9\.attn\.c_attn\.weight/),
      expect(run({ merged: new Map([['ln_f.bias', new Float32Array(3)]]) })()).rejects.toThrow(/EXPORT_INVALID.*3 elements/),
      expect(run({ merged: new Map([['ln_f.bias', new Float32Array(48).fill(NaN)]]) })()).rejects.toThrow(/EXPORT_NONFINITE.*transformer\.ln_f\.bias/),
      expect(run({ companions: new Map([['pytorch_model.bin', 'x']]) })()).rejects.toThrow(/EXPORT_INVALID in pytorch_model\.bin/),
    ]);
  });
});

describe('buildMergedModelFiles: ViT', () => {
  const newHead = (K: number) => ({
    weight: seeded([K, 48]).data, bias: seeded([K]).data,
    id2label: Object.fromEntries(Array.from({ length: K }, (_, i) => [String(i), ['cat', 'dog', 'bird'][i] ?? `c${i}`])),
  });

  it('a new 3-class head on test/fixtures/vit_tiny: config labels updated, loads with 3 classes', async () => {
    const base = await loadVitTiny(3);
    expect(base.head).toMatchObject({ newHead: true, reason: 'class-count', checkpointClasses: 5 });
    const head = newHead(3);
    const merged = new Map([['encoder.layer.0.attention.attention.query.weight', seeded([48, 48]).data]]);
    const cfgBytes = fixtureFiles('vit_tiny').get('config.json') as Uint8Array;
    const pre = '{\n  "do_normalize": true,\n  "image_mean": [0.5, 0.5, 0.5],\n  "size": 8\n}';
    const files = buildMergedModelFiles({ model: base, merged, newHead: head, companions: new Map<string, Uint8Array | string>([['config.json', cfgBytes], ['preprocessor_config.json', pre]]) });
    expect(text(files.get('preprocessor_config.json'))).toBe(pre);
    const cfg = JSON.parse(text(files.get('config.json')));
    expect(cfg.id2label).toEqual({ 0: 'cat', 1: 'dog', 2: 'bird' });
    expect(cfg.label2id).toEqual({ cat: 0, dog: 1, bird: 2 });
    expect(Object.keys(cfg)).toEqual(Object.keys(JSON.parse(text(cfgBytes))));
    const again = (await reload(files)) as LoadedVit;
    expect(again.head).toMatchObject({ newHead: false, numClasses: 3, checkpointClasses: 3 });
    expect(again.config.id2label).toEqual(['cat', 'dog', 'bird']);
    expect(again.originalKeys.get('classifier.weight')).toBe('classifier.weight');
    expect(again.originalKeys.get('encoder.layer.0.attention.attention.query.weight')).toBe('vit.encoder.layer.0.attention.attention.query.weight');
    expect(sameBits(again.tensors.get('classifier.weight')?.data as Float32Array, head.weight)).toBe(true);
    expect(sameBits(again.tensors.get('classifier.bias')?.data as Float32Array, head.bias)).toBe(true);
    for (const [name, t] of base.tensors) {
      expect(sameBits(again.tensors.get(name)?.data as Float32Array, merged.get(name) ?? t.data), name).toBe(true);
    }
  });

  it('refuses to drop a replaced head silently', async () => {
    const base = await loadVitTiny(3);
    expect(() => buildMergedModelFiles({ model: base, merged: new Map(), companions: new Map() })).toThrow(/EXPORT_INVALID.*pass newHead/);
  });

  it('a bare ViTModel with a pooler given a head: vit. prefix added, num_labels kept consistent', async () => {
    const src = folder(vitConfig({ architectures: ['ViTModel'], num_labels: 5 }), vitTensors({ prefix: false, classifier: false, pooler: true }));
    const base = (await loadModelDir(sourceFromMap(src), { numClasses: 2 })) as LoadedVit;
    expect(base.prefix).toBe('');
    const files = buildMergedModelFiles({ model: base, merged: new Map(), newHead: newHead(2), companions: new Map([['config.json', src.get('config.json') as string]]) });
    const cfg = JSON.parse(text(files.get('config.json')));
    expect(cfg).toMatchObject({ architectures: ['ViTForImageClassification'], num_labels: 2, id2label: { 0: 'cat', 1: 'dog' } });
    const again = (await reload(files)) as LoadedVit;
    expect(again.prefix).toBe('vit.');
    expect(again.head).toMatchObject({ newHead: false, numClasses: 2 });
    expect([...again.passthrough.keys()].sort()).toEqual(['vit.pooler.dense.bias', 'vit.pooler.dense.weight']);
  });
});

describe('buildMergedModelFiles: tied head', () => {
  it('a stored lm_head.weight duplicate follows a changed wte, so the folder still loads', async () => {
    const src = folder(gpt2Config(), gpt2Tensors({ prefix: true, lmHead: 'equal' }));
    const base = (await loadModelDir(sourceFromMap(src))) as LoadedGpt2;
    expect(base.passthrough.has('lm_head.weight')).toBe(true);
    const wte = seeded([101, 48]).data;
    const files = buildMergedModelFiles({ model: base, merged: new Map([['wte.weight', wte]]), companions: new Map() });
    const again = await reload(new Map([...files, ['config.json', new TextEncoder().encode(src.get('config.json') as string)]]));
    expect(sameBits(again.passthrough.get('lm_head.weight')?.data as Float32Array, wte)).toBe(true);
  });
});
