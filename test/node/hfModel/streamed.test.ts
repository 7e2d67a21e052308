// Streamed loading (issue 13 item 1): a source with `open` is read through byte ranges — headers at load,
// then one read per canonical tensor when the engine uploads it — and gives the same model as the in-memory read; passthrough
// tensors are never read; every parser check still runs (against the file's size); progress is reported.
import { describe, expect, it } from 'vitest';
import { loadModelDir, type LoadedGpt2, type LoadProgress, type ModelDirSource, sourceFromMap } from '../../../src/io/hfModel';
import {
  bytesRangeReader, countingReader, isStreamed, newReadStats, type ReadStats, SafetensorsError, type SafetensorsTensor, tensorFloat32,
} from '../../../src/io/safetensors';
import { folder, gpt2Config, gpt2Tensors, type Files } from './fixtures';

/** sourceFromMap plus ranged opens over the same bytes, counting every read per file. */
function rangedSource(files: Files): { source: ModelDirSource; stats: Map<string, ReadStats> } {
  const stats = new Map<string, ReadStats>();
  const base = sourceFromMap(files);
  return {
    stats,
    source: {
      names: base.names,
      read: base.read,
      open: async (name) => {
        const v = files.get(name);
        if (v === undefined || typeof v === 'string') throw new Error(`no binary file ${name}`);
        const s = newReadStats();
        stats.set(name, s);
        return countingReader(bytesRangeReader(v), s);
      },
    },
  };
}

describe('streamed loading', () => {
  it('gives the in-memory model, reads no tensor at load and one read per canonical tensor when they are used, never the passthrough buffers', async () => {
    const files = folder(gpt2Config(), gpt2Tensors({ buffers: true, lmHead: 'none' }));
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedGpt2;
    const { source, stats } = rangedSource(files);
    const progress: LoadProgress[] = [];
    const streamed = (await loadModelDir(source, { onProgress: (p) => progress.push(p) })) as LoadedGpt2;
    expect([...streamed.tensors.keys()]).toEqual([...memory.tensors.keys()]);
    const s = stats.get('model.safetensors') as ReadStats;
    const headerLength = new DataView((files.get('model.safetensors') as Uint8Array).buffer).getUint32(0, true);
    // The load itself reads the prefix and the header only: the engine reads each tensor when it uploads it.
    expect(s.reads).toBe(2);
    expect(s.bytesRead).toBe(8 + headerLength);
    expect(progress).toHaveLength(0);
    for (const t of streamed.tensors.values()) expect(isStreamed(t) && !t.resident, t.name).toBe(true);
    // Reading every canonical tensor once (as an engine upload does) gives the in-memory values, with progress.
    for (const [name, t] of memory.tensors) expect(await tensorFloat32(streamed.tensors.get(name) as SafetensorsTensor), name).toEqual(t.data);
    const fileSize = (files.get('model.safetensors') as Uint8Array).byteLength;
    const canonicalBytes = [...memory.tensors.values()].reduce((n, t) => n + t.raw.byteLength, 0);
    expect(s.reads).toBe(2 + memory.tensors.size); // prefix, header, then one per canonical tensor
    expect(s.maxRead).toBe(Math.max(headerLength, ...[...memory.tensors.values()].map((t) => t.raw.byteLength)));
    expect(s.maxRead).toBeLessThan(fileSize / 2);
    // The attn.bias buffers (passthrough) were not read: bytes read = header + canonical tensors.
    expect(streamed.passthrough.size).toBeGreaterThan(0);
    expect(s.bytesRead).toBeLessThan(fileSize);
    expect(s.bytesRead).toBe(8 + headerLength + canonicalBytes);
    for (const t of streamed.passthrough.values()) expect(isStreamed(t) && t.resident).toBe(false);
    // A passthrough reads on demand (streamed export) and equals the in-memory bytes.
    const [key, pt] = [...streamed.passthrough][0];
    expect(await tensorFloat32(pt)).toEqual(memory.passthrough.get(key)?.data);
    expect(() => pt.data).toThrow(/was not fetched/);
    expect(streamed.memory).toEqual(memory.memory);
    // Progress: one report per tensor's first read, monotone, ending at the canonical total; a second read is not progress.
    expect(progress).toHaveLength(memory.tensors.size);
    expect(progress.at(-1)?.bytes).toBe(canonicalBytes);
    expect(progress.every((p, i) => p.totalBytes === canonicalBytes && (i === 0 || p.bytes > progress[i - 1].bytes))).toBe(true);
    await tensorFloat32(streamed.tensors.get('wte.weight') as SafetensorsTensor);
    expect(progress).toHaveLength(memory.tensors.size);
  });

  it('loads shards through ranges, with the same cross-checks', async () => {
    const t = gpt2Tensors({ lmHead: 'equal' });
    const files = folder(gpt2Config(), t, 3);
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedGpt2;
    const { source, stats } = rangedSource(files);
    const streamed = (await loadModelDir(source)) as LoadedGpt2;
    expect(streamed.weightFiles).toEqual(memory.weightFiles);
    for (const [name, x] of memory.tensors) expect(await tensorFloat32(streamed.tensors.get(name) as SafetensorsTensor), name).toEqual(x.data);
    expect([...stats.keys()].sort()).toEqual(memory.weightFiles.slice().sort());
    // The tied head's stored copy was compared, then released.
    const head = streamed.passthrough.get('lm_head.weight');
    expect(head && isStreamed(head) && !head.resident).toBe(true);
    // A differing tied head is still refused when streamed.
    const bad = folder(gpt2Config(), gpt2Tensors({ lmHead: 'different' }), 2);
    await expect(loadModelDir(rangedSource(bad).source)).rejects.toThrow(/MODEL_TIED_HEAD|differs from wte.weight/);
  });

  it('runs the parser checks against the file size: a header length past the end is refused from 8 bytes', async () => {
    const files = folder(gpt2Config(), gpt2Tensors());
    const bytes = (files.get('model.safetensors') as Uint8Array).slice();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.byteLength), true);
    files.set('model.safetensors', bytes);
    const { source, stats } = rangedSource(files);
    const err = await loadModelDir(source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).code).toBe('ST_HEADER_LENGTH');
    expect(stats.get('model.safetensors')).toEqual({ bytesRead: 8, reads: 1, maxRead: 8 });
  });

  it('a truncated file (data shorter than the header says) is refused before any tensor is read', async () => {
    const files = folder(gpt2Config(), gpt2Tensors());
    const bytes = files.get('model.safetensors') as Uint8Array;
    files.set('model.safetensors', bytes.subarray(0, bytes.byteLength - 4));
    const { source, stats } = rangedSource(files);
    await expect(loadModelDir(source)).rejects.toThrow(SafetensorsError);
    expect(stats.get('model.safetensors')?.reads).toBe(2);
  });
});
