// Streamed weights straight to the GPU (issue 13 item 1): a streamed load reads only headers, and engine
// creation reads each canonical tensor once, uploads it and moves on, so JS never holds more than one
// tensor of the model. Proved by counting, not timing: every tensor's read is followed by its upload
// before the next read (the bytes read but not yet uploaded never exceed the largest tensor), no tensor
// is kept resident, and the engine equals the one built from the same files in memory, exactly.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedGpt2, type LoadedLlama, type LoadedModel, loadModelDir, type ModelDirSource, sourceFromMap } from '../../../src/io/hfModel';
import { bytesRangeReader, countingReader, isStreamed, newReadStats, type ReadStats } from '../../../src/io/safetensors';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import { testContext } from '../../helpers/gpu';

async function fixtureFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const n of ['config.json', 'model.safetensors']) {
    const res = await fetch(`/test/fixtures/${dir}/${n}`);
    files.set(n, new Uint8Array(await res.arrayBuffer()));
  }
  return files;
}

/** The same files through ranged reads (as the studio's File.slice and the CLI bridge), counting them. */
function rangedSource(files: Map<string, Uint8Array>, stats: ReadStats): ModelDirSource {
  const base = sourceFromMap(files);
  return { names: base.names, read: base.read, open: async (name) => countingReader(bytesRangeReader(files.get(name) as Uint8Array), stats) };
}

interface Ledger {
  /** Bytes read of tensors whose upload has not happened yet, now and at its highest. */
  pending: Map<string, number>;
  peakPending: number;
  reads: string[];
  uploads: string[];
}

/**
 * Loads `files` streamed and builds an engine with `create`, recording each tensor's first read (load
 * progress) and each GPU upload of it (ctx.upload, labelled by canonical name or `name[v0:v1]`).
 */
async function streamedBuild<E>(ctx: GpuContext, files: Map<string, Uint8Array>, create: (m: LoadedModel) => Promise<E>) {
  const stats = newReadStats();
  const ledger: Ledger = { pending: new Map(), peakPending: 0, reads: [], uploads: [] };
  const loaded = await loadModelDir(rangedSource(files, stats), {
    onProgress: (p) => {
      // Progress names the tensor by its key in the file; uploads by its canonical name.
      const name = [...loaded_?.originalKeys ?? []].find(([, key]) => key === p.tensor)?.[0] ?? `? ${p.tensor}`;
      const t = loaded_?.tensors.get(name);
      ledger.reads.push(name);
      ledger.pending.set(name, t && isStreamed(t) ? t.byteLength : Infinity);
      ledger.peakPending = Math.max(ledger.peakPending, [...ledger.pending.values()].reduce((a, b) => a + b, 0));
      for (const x of loaded_?.tensors.values() ?? []) if (isStreamed(x) && x.resident) throw new Error(`${x.name} was kept in memory`);
    },
  });
  let loaded_: LoadedModel | undefined = loaded;
  const afterLoad = { ...stats };
  const upload = ctx.upload;
  ctx.upload = (label, data, category) => {
    const name = label.replace(/\[\d+:\d+\]$/, '');
    ledger.uploads.push(name);
    ledger.pending.delete(name);
    return upload.call(ctx, label, data, category);
  };
  try {
    const engine = await create(loaded);
    loaded_ = undefined;
    return { loaded, engine, stats, afterLoad, ledger };
  } finally {
    ctx.upload = upload;
  }
}

function expectOneTensorAtATime(loaded: LoadedModel, files: Map<string, Uint8Array>, r: { stats: ReadStats; afterLoad: ReadStats; ledger: Ledger }) {
  const canonical = [...loaded.tensors.values()].filter(isStreamed);
  expect(canonical.length).toBe(loaded.tensors.size);
  const headerLength = new DataView(files.get('model.safetensors')!.buffer).getUint32(0, true);
  // The load read the prefix and the header only.
  expect(r.afterLoad).toEqual({ bytesRead: 8 + headerLength, reads: 2, maxRead: Math.max(8, headerLength) });
  // Engine creation read every canonical tensor exactly once, in one ranged read each.
  const storedBytes = canonical.reduce((n, t) => n + t.byteLength, 0);
  expect(r.stats.reads - 2).toBe(canonical.length);
  expect(r.stats.bytesRead - r.afterLoad.bytesRead).toBe(storedBytes);
  expect(new Set(r.ledger.reads).size).toBe(canonical.length);
  // Each tensor was uploaded before the next one was read: never more than one tensor's bytes pending.
  const largest = Math.max(...canonical.map((t) => t.byteLength));
  expect(r.ledger.pending.size).toBe(0);
  expect(r.ledger.peakPending).toBeLessThanOrEqual(largest);
  expect(r.ledger.peakPending).toBeLessThan(storedBytes / 4);
  for (const name of r.ledger.reads) expect(r.ledger.uploads, name).toContain(name);
  // Nothing of the model stays in JS once the engine exists.
  for (const t of canonical) expect(t.resident, t.name).toBe(false);
}

describe('streamed load uploads tensor by tensor', () => {
  it('GPT-2 with DoRA: one tensor at a time, the same logits, loss and initial magnitudes as in memory', async () => {
    const ctx = await testContext();
    const files = await fixtureFiles('gpt2_tiny');
    const o = { targetModules: ['c_attn', 'c_fc'], r: 2, scale: 2, B: 1, T: 6, seed: 3, useDora: true };
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedGpt2;
    const ref = await Gpt2LoraModel.create(ctx, memory, o);
    const s = await streamedBuild(ctx, files, (m) => Gpt2LoraModel.create(ctx, m as LoadedGpt2, o));
    try {
      expectOneTensorAtATime(s.loaded, files, s);
      const V = memory.config.vocab_size;
      const ids = Uint32Array.from({ length: 6 }, (_, i) => (i * 11 + 2) % V);
      const labels = Int32Array.from({ length: 6 }, (_, i) => (i * 5 + 1) % V);
      expect(await s.engine.readLoraWeights()).toEqual(await ref.readLoraWeights()); // DoRA m = base row norms
      expect(await s.engine.forwardLogits(ids)).toEqual(await ref.forwardLogits(ids));
      expect((await s.engine.step(ids, labels)).loss).toBe((await ref.step(ids, labels)).loss);
    } finally {
      ref.destroy();
      s.engine.destroy();
    }
  });

  it('Qwen3 BF16, packed: one tensor at a time, the same logits and loss as in memory', async () => {
    const ctx = await testContext();
    const files = await fixtureFiles('llama_qwen3_tiny');
    const o = { targetModules: ['q_proj', 'v_proj'], r: 4, scale: 2, B: 1, T: 8, seed: 5 };
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedLlama;
    expect(memory.tensors.get('embed_tokens.weight')?.dtype).toBe('BF16');
    const ref = await LlamaLoraModel.create(ctx, memory, o);
    const s = await streamedBuild(ctx, files, (m) => LlamaLoraModel.create(ctx, m as LoadedLlama, o));
    try {
      expectOneTensorAtATime(s.loaded, files, s);
      expect(s.engine.parts.weights.embedFormat).toBe('bf16');
      const V = memory.config.vocab_size;
      const ids = Uint32Array.from({ length: 8 }, (_, i) => (i * 7 + 3) % V);
      const labels = Int32Array.from({ length: 8 }, (_, i) => (i * 5 + 1) % V);
      const lora = new Map([...await ref.readLoraWeights()].map(([k, v]) => [k, Float32Array.from(v, (x, i) => x + 0.05 * Math.cos(i))]));
      ref.setLoraWeights(lora);
      s.engine.setLoraWeights(lora);
      expect(await s.engine.forwardLogits(ids)).toEqual(await ref.forwardLogits(ids));
      expect((await s.engine.step(ids, labels)).loss).toBe((await ref.step(ids, labels)).loss);
    } finally {
      ref.destroy();
      s.engine.destroy();
    }
  });
});
