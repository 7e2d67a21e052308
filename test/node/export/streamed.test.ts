// The streamed merged export (issue 13 item 6) writes the very bytes of the in-memory one — one file or
// transformers' shards with the index — from a streamed load, one tensor in memory at a time, merged on
// demand; the sink sees each weights file as a header then one part per tensor.
import { describe, expect, it } from 'vitest';
import { buildMergedModelFiles, writeMergedModelStreamed, type ExportSink } from '../../../src/io/export';
import { loadModelDir, type LoadedGpt2, type ModelDirSource, sourceFromMap } from '../../../src/io/hfModel';
import { bytesRangeReader } from '../../../src/io/safetensors';
import { folder, gpt2Config, gpt2Tensors, type Files } from '../hfModel/fixtures';

function ranged(files: Files): ModelDirSource {
  const base = sourceFromMap(files);
  return { ...base, open: async (n) => bytesRangeReader(files.get(n) as Uint8Array) };
}

/** A sink that keeps what it was given, and the largest single part. */
function memorySink() {
  const files = new Map<string, Uint8Array>();
  let maxPart = 0;
  const sink: ExportSink = {
    file: async (name, bytes) => { files.set(name, bytes.slice()); },
    open: async (name) => {
      const parts: Uint8Array[] = [];
      return {
        append: async (b) => { maxPart = Math.max(maxPart, b.byteLength); parts.push(b.slice()); },
        close: async () => {
          const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
          let at = 0;
          for (const p of parts) { out.set(p, at); at += p.byteLength; }
          files.set(name, out);
        },
      };
    },
  };
  return { sink, files, maxPart: () => maxPart };
}

describe('streamed merged export', () => {
  for (const maxShardBytes of [undefined, 20_000]) {
    it(`equals buildMergedModelFiles byte for byte (${maxShardBytes ? 'sharded' : 'one file'}), merged on demand`, async () => {
      const files = folder(gpt2Config(), gpt2Tensors({ prefix: true, buffers: true, lmHead: 'equal' }));
      const memory = (await loadModelDir(sourceFromMap(files))) as LoadedGpt2;
      const streamed = (await loadModelDir(ranged(files))) as LoadedGpt2;
      const merged = new Map<string, Float32Array>();
      for (const name of ['h.0.attn.c_attn.weight', 'wte.weight']) merged.set(name, memory.tensors.get(name)!.data.map((v, i) => v + (i % 7) * 1e-3));
      const companions = new Map([['config.json', files.get('config.json') as string], ['tokenizer.json', '{"x": 1}']]);
      const expected = buildMergedModelFiles({ model: memory, merged, companions, maxShardBytes });
      const calls: string[] = [];
      const { sink, files: got, maxPart } = memorySink();
      const written = await writeMergedModelStreamed({
        model: streamed, merged: (name) => { calls.push(name); return merged.get(name); }, companions, maxShardBytes,
      }, sink);
      expect(new Set(written)).toEqual(new Set(expected.keys()));
      for (const [name, bytes] of expected) expect(got.get(name), name).toEqual(bytes);
      if (maxShardBytes) expect(written).toContain('model.safetensors.index.json');
      // Each canonical tensor was asked for once (and the tied lm_head copy took the merged embedding).
      expect(calls.filter((c) => c === 'wte.weight')).toHaveLength(2);
      // One tensor per part: the largest part is the largest tensor (or a header), never a file.
      const largest = Math.max(...[...got.entries()].filter(([n]) => n.endsWith('.safetensors')).map(([, b]) => b.byteLength));
      const largestTensor = Math.max(...[...memory.tensors.values(), ...memory.passthrough.values()].map((t) => 4 * t.shape.reduce((x, y) => x * y, 1)));
      expect(maxPart()).toBeLessThan(largest);
      expect(maxPart()).toBeGreaterThanOrEqual(largestTensor);
    });
  }

  it('refuses a merged tensor of the wrong size, naming it', async () => {
    const files = folder(gpt2Config(), gpt2Tensors());
    const streamed = (await loadModelDir(ranged(files))) as LoadedGpt2;
    const { sink } = memorySink();
    await expect(writeMergedModelStreamed({ model: streamed, merged: (n) => (n === 'h.1.mlp.c_fc.weight' ? new Float32Array(3) : undefined), companions: new Map() }, sink))
      .rejects.toThrow(/mlp\.c_fc\.weight.*3 elements/);
  });
});
