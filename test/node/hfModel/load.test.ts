// Loading tiny GPT-2 and ViT folders: prefixed and bare names, one file or shards, with and without
// lm_head / attn.bias / classifier / pooler; canonical tensors carry the file's values and original keys.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadModelDir, type LoadedGpt2, type LoadedModel, type LoadedVit, type LoadOptions, sourceFromFiles,
} from '../../../src/io/hfModel';
import { shardFileName, tensorFloat32 } from '../../../src/io/safetensors';
import {
  folder, G, gpt2Config, gpt2Names, gpt2Tensors, type GptOptions, rawEntries, rawSafetensors, source, type Tensors,
  VT, vitConfig, vitNames, vitTensors, type VitOptions,
} from './fixtures';

async function loadGpt2(o: GptOptions & { shards?: number; config?: object } = {}) {
  const t = gpt2Tensors(o);
  const m = (await loadModelDir(source(folder(o.config ?? gpt2Config(), t, o.shards)))) as LoadedGpt2;
  expect(m.kind).toBe('gpt2');
  return { m, t };
}

async function loadVit(o: VitOptions & { shards?: number; config?: object } = {}, options: LoadOptions = {}) {
  const t = vitTensors(o);
  const m = (await loadModelDir(source(folder(o.config ?? vitConfig(), t, o.shards)), options)) as LoadedVit;
  expect(m.kind).toBe('vit');
  return { m, t };
}

/** Every canonical tensor equals the stored one under its original key, value for value. */
async function expectSameValues(m: LoadedModel, t: Tensors): Promise<void> {
  for (const [canonical, tensor] of m.tensors) {
    const key = m.originalKeys.get(canonical) as string;
    const src = t.get(key);
    expect(src, `${canonical} → ${key}`).toBeDefined();
    expect(tensor.shape).toEqual(src?.shape);
    // A plain loop: vitest's deep equality on typed arrays costs seconds at these sizes.
    const a = await tensorFloat32(tensor); // a streamed decoder load keeps its tensors on disk
    const b = src?.data ?? new Float32Array();
    const firstDiff = a.length !== b.length ? -2 : a.findIndex((v, i) => !Object.is(v, b[i]));
    expect(firstDiff, `${canonical}: first differing element`).toBe(-1);
  }
}

const gpt2Params = (L = G.L) => {
  const { C, V, NP, I } = G;
  const layer = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * I + I) + (I * C + C);
  return V * C + NP * C + L * layer + 2 * C;
};

describe('GPT-2 folders', () => {
  it('bare names, one file, tied head absent, buffers present: canonical = bare names, buffers kept for export', async () => {
    const { m, t } = await loadGpt2({ buffers: true });
    expect([...m.tensors.keys()]).toEqual(gpt2Names().map(([n]) => n));
    expect(m.prefix).toBe('');
    expect(m.tied).toBe(true);
    expect([...m.originalKeys].every(([c, k]) => c === k)).toBe(true);
    expect([...m.passthrough.keys()].sort()).toEqual(['h.0.attn.bias', 'h.0.attn.masked_bias', 'h.1.attn.bias', 'h.1.attn.masked_bias']);
    await expectSameValues(m, t);
    expect(m.memory).toEqual({ parameters: gpt2Params(), f32Bytes: 4 * gpt2Params(), newHeadParameters: 0, passthroughBytes: 2 * (4 * 13 * 13 + 4) });
    expect(m.weightFiles).toEqual(['model.safetensors']);
    expect(m.config.n_embd).toBe(48);
  });

  it('transformer. prefix, 3 shards, no buffers: canonical names are bare, original keys prefixed', async () => {
    const { m, t } = await loadGpt2({ prefix: true, shards: 3 });
    expect([...m.tensors.keys()]).toEqual(gpt2Names().map(([n]) => n));
    expect(m.prefix).toBe('transformer.');
    expect(m.originalKeys.get('h.1.attn.c_attn.weight')).toBe('transformer.h.1.attn.c_attn.weight');
    expect(m.passthrough.size).toBe(0);
    expect(m.weightFiles).toEqual([1, 2, 3].map((i) => shardFileName(i, 3)));
    expect(m.tensors.get('h.0.attn.c_attn.weight')?.shape).toEqual([48, 144]); // Conv1D [in, out], not transposed
    await expectSameValues(m, t);
  });

  it('an lm_head.weight equal to wte is tied and kept only for export', async () => {
    const { m, t } = await loadGpt2({ prefix: true, lmHead: 'equal', buffers: true });
    expect(m.tied).toBe(true);
    expect(m.tensors.has('lm_head.weight')).toBe(false);
    expect(m.passthrough.get('lm_head.weight')?.data).toEqual(t.get('lm_head.weight')?.data);
    expect(m.passthrough.has('transformer.h.1.attn.masked_bias')).toBe(true);
  });

  it('tie_word_embeddings false: lm_head.weight is a canonical parameter (never prefixed)', async () => {
    const { m, t } = await loadGpt2({ prefix: true, lmHead: 'different', config: gpt2Config({ tie_word_embeddings: false }) });
    expect(m.tied).toBe(false);
    expect(m.originalKeys.get('lm_head.weight')).toBe('lm_head.weight');
    expect(m.memory.parameters).toBe(gpt2Params() + G.V * G.C);
    await expectSameValues(m, t);
  });

  it('F16 and BF16 parameters load and convert to F32 lazily', async () => {
    const t = gpt2Tensors();
    const entries = rawEntries(t);
    const half = (name: string, dtype: string, bits: number) => {
      const e = entries.find((x) => x.name === name);
      if (!e) throw new Error(name);
      const n = e.bytes.length / 4;
      const bytes = new Uint8Array(2 * n);
      for (let i = 0; i < n; i++) [bytes[2 * i], bytes[2 * i + 1]] = [bits & 0xff, bits >> 8];
      Object.assign(e, { dtype, bytes });
    };
    half('ln_f.weight', 'F16', 0x3c00); // 1.0
    half('ln_f.bias', 'BF16', 0xbf80); // −1.0
    const files = folder(gpt2Config(), new Map());
    files.set('model.safetensors', rawSafetensors(entries));
    const m = await loadModelDir(source(files));
    expect(Array.from(m.tensors.get('ln_f.weight')?.data ?? [])).toEqual(new Array(48).fill(1));
    expect(Array.from(m.tensors.get('ln_f.bias')?.data ?? [])).toEqual(new Array(48).fill(-1));
    expect(m.tensors.get('ln_f.weight')?.dtype).toBe('F16');
  });

  it('model.safetensors wins over a shard index in the same folder (transformers order)', async () => {
    const t = gpt2Tensors();
    const files = folder(gpt2Config(), t, 2);
    files.set('model.safetensors', folder(gpt2Config(), t).get('model.safetensors') as Uint8Array);
    const m = await loadModelDir(source(files));
    expect(m.weightFiles).toEqual(['model.safetensors']);
  });

  it('reads a folder on disk through Node fs (readdir + readFile)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hfmodel-'));
    try {
      const t = gpt2Tensors({ prefix: true, buffers: true });
      for (const [name, bytes] of folder(gpt2Config(), t, 2)) await writeFile(join(dir, name), bytes);
      const m = await loadModelDir({ names: await readdir(dir), read: (n) => readFile(join(dir, n)) });
      expect(m.kind).toBe('gpt2');
      expect(m.tensors.size).toBe(gpt2Names().length);
      await expectSameValues(m, t);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('browser File objects', () => {
  it('sourceFromFiles: top-level files of a picked folder; subfolders are skipped', async () => {
    const t = gpt2Tensors({ buffers: true });
    const picked = [...folder(gpt2Config(), t)].map(([name, bytes]) => {
      const part = typeof bytes === 'string' ? bytes : new Uint8Array(bytes);
      return withPath(new File([part], name), `gpt2/${name}`);
    });
    // A config.json in a subfolder must not shadow the real one.
    picked.unshift(withPath(new File(['{"model_type":"bert"}'], 'config.json'), 'gpt2/onnx/config.json'));
    const src = sourceFromFiles(picked);
    expect([...src.names].sort()).toEqual(['config.json', 'model.safetensors']);
    const m = await loadModelDir(src);
    expect(m.kind).toBe('gpt2');
    await expectSameValues(m, t);
  });
});

function withPath(file: File, path: string): File {
  return Object.defineProperty(file, 'webkitRelativePath', { value: path });
}

describe('ViT folders', () => {
  it('ViTForImageClassification (vit. prefix, classifier of num_labels): head loaded', async () => {
    const { m, t } = await loadVit({ prefix: true });
    const names = [...vitNames().map(([n]) => n), 'classifier.weight', 'classifier.bias'];
    expect([...m.tensors.keys()]).toEqual(names);
    expect(m.prefix).toBe('vit.');
    expect(m.originalKeys.get('encoder.layer.1.attention.attention.query.weight')).toBe('vit.encoder.layer.1.attention.attention.query.weight');
    expect(m.originalKeys.get('classifier.weight')).toBe('classifier.weight');
    expect(m.head).toEqual({ newHead: false, reason: null, numClasses: 5, checkpointClasses: 5 });
    expect(m.tensors.get('embeddings.patch_embeddings.projection.weight')?.shape).toEqual([48, 3, 4, 4]);
    expect(m.tensors.get('embeddings.position_embeddings')?.shape).toEqual([1, VT.P + 1, 48]);
    await expectSameValues(m, t);
    expect(m.preprocessor).toBeNull();
  });

  it('ViTModel (bare, pooler, no classifier): a new head of the requested class count, pooler kept for export', async () => {
    const { m, t } = await loadVit({ classifier: false, pooler: true, config: vitConfig({ architectures: ['ViTModel'] }) }, { numClasses: 10 });
    expect([...m.tensors.keys()]).toEqual(vitNames().map(([n]) => n));
    expect(m.prefix).toBe('');
    expect(m.head).toEqual({ newHead: true, reason: 'no-classifier', numClasses: 10, checkpointClasses: null });
    expect([...m.passthrough.keys()].sort()).toEqual(['pooler.dense.bias', 'pooler.dense.weight']);
    expect(m.memory.newHeadParameters).toBe(10 * 48 + 10);
    await expectSameValues(m, t);
  });

  it('without numClasses a headless checkpoint gets a head of config num_labels', async () => {
    const { m } = await loadVit({ classifier: false });
    expect(m.head).toMatchObject({ newHead: true, numClasses: 5 });
  });

  it('another class count than the checkpoint: flag a new head, drop the old classifier', async () => {
    const { m } = await loadVit({ prefix: true, shards: 2 }, { numClasses: 7 });
    expect(m.head).toEqual({ newHead: true, reason: 'class-count', numClasses: 7, checkpointClasses: 5 });
    expect(m.tensors.has('classifier.weight')).toBe(false);
    expect(m.originalKeys.has('classifier.bias')).toBe(false);
    expect(m.passthrough.size).toBe(0);
    const backbone = vitNames().reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
    expect(m.memory).toMatchObject({ parameters: backbone + 7 * 48 + 7, newHeadParameters: 7 * 48 + 7 });
  });

  it('the same class count as the checkpoint keeps its classifier', async () => {
    const { m } = await loadVit({}, { numClasses: 5 });
    expect(m.head.newHead).toBe(false);
    expect(m.tensors.has('classifier.bias')).toBe(true);
  });

  it('qkv_bias false: no query/key/value biases expected', async () => {
    const { m, t } = await loadVit({ qkvBias: false, config: vitConfig({ qkv_bias: false }) });
    expect(m.tensors.has('encoder.layer.0.attention.attention.query.bias')).toBe(false);
    expect(m.tensors.has('encoder.layer.0.attention.output.dense.bias')).toBe(true);
    await expectSameValues(m, t);
  });

  it('parses preprocessor_config.json when present', async () => {
    const files = folder(vitConfig(), vitTensors());
    files.set('preprocessor_config.json', JSON.stringify({ size: 8, image_mean: [0.485, 0.456, 0.406], image_std: [0.229, 0.224, 0.225], resample: 3 }));
    const m = (await loadModelDir(source(files))) as LoadedVit;
    expect(m.preprocessor?.size).toEqual({ height: 8, width: 8 });
    expect(m.preprocessor?.image_std).toEqual([0.229, 0.224, 0.225]);
    expect(m.warnings.some((w) => w.includes('resample 3'))).toBe(true);
  });
});
