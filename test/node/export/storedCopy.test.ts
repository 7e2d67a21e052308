// Unchanged tensors of a streamed export copied file→file by the CLI host (src/cli/storedCopy.ts): the folder is
// byte for byte the one the page path writes (F32 and a rounded BF16 export), only tensors the run did not
// change are copied, and a non-finite stored value is still refused with the exporter's code.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ExportDtype, type ExportSink, type StoredSlice, writeMergedModelStreamed } from '../../../src/io/export';
import { loadModelDir, type LoadedGpt2, type ModelDirSource, sourceFromMap } from '../../../src/io/hfModel';
import { bytesRangeReader, parseHeaderOfFile } from '../../../src/io/safetensors';
import { appendStoredTensor, StoredCopyError } from '../../../src/cli/storedCopy';
import { folder, gpt2Config, gpt2Tensors, type Files } from '../hfModel/fixtures';

const dir = mkdtempSync(join(tmpdir(), 'lorasc-stored-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ranged(files: Files): ModelDirSource {
  const base = sourceFromMap(files);
  return { ...base, open: async (n) => bytesRangeReader(files.get(n) as Uint8Array) };
}

/** A sink writing `.partial` files on disk, as the bridge does; `stored` copies through the host's code. */
function diskSink(out: string, stored: boolean, copied: string[]): ExportSink {
  return {
    file: async (name, bytes) => writeFileSync(join(out, name), bytes),
    open: async (name) => {
      const partial = join(out, `${name}.partial`);
      writeFileSync(partial, new Uint8Array(0));
      let offset = 0;
      return {
        append: async (b) => { writeFileSync(partial, b, { flag: 'a' }); offset += b.byteLength; },
        ...(stored ? {
          appendStored: async (s: StoredSlice, o: { key: string; dtype: ExportDtype }) => {
            copied.push(o.key);
            const q = new URLSearchParams({ src: s.path, start: String(s.start), end: String(s.end), dtype: s.dtype, shape: s.shape.join(','), to: o.dtype, key: o.key, file: name, offset: String(offset) });
            const n = await appendStoredTensor(partial, q, async (p) => p);
            offset += n;
            return n;
          },
        } : {}),
        close: async () => writeFileSync(join(out, name), readFileSync(partial)),
      };
    },
  };
}

async function exportBoth(files: Files, merged: Map<string, Float32Array>, dtype: ExportDtype) {
  const src = join(dir, `src-${dtype}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(src);
  const weights = files.get('model.safetensors') as Uint8Array;
  writeFileSync(join(src, 'model.safetensors'), weights);
  const header = parseHeaderOfFile(weights, 'model.safetensors');
  const slices = new Map(header.tensors.map((t) => [t.name, { path: join(src, 'model.safetensors'), start: header.dataStart + t.begin, end: header.dataStart + t.end, dtype: t.dtype, shape: t.shape }]));
  const results: Map<string, Uint8Array>[] = [];
  const copied: string[] = [];
  for (const stored of [false, true]) {
    const out = join(src, stored ? 'copied' : 'page');
    mkdirSync(out);
    const model = (await loadModelDir(ranged(files))) as LoadedGpt2;
    const written = await writeMergedModelStreamed({
      model, merged: (n) => merged.get(n), companions: new Map([['config.json', files.get('config.json') as string]]), dtype,
      storedSlice: (k) => slices.get(k),
    }, diskSink(out, stored, copied));
    results.push(new Map(written.map((n) => [n, new Uint8Array(readFileSync(join(out, n)))])));
  }
  return { page: results[0], copied: results[1], keys: copied };
}

describe('unchanged tensors copied file→file by the CLI host', () => {
  for (const dtype of ['F32', 'BF16'] as const) {
    it(`writes the page path's bytes (${dtype} export), copying only the unchanged tensors`, async () => {
      const files = folder(gpt2Config(), gpt2Tensors({ prefix: true, buffers: true, lmHead: 'equal' }));
      const memory = (await loadModelDir(sourceFromMap(files))) as LoadedGpt2;
      const merged = new Map([['h.0.attn.c_attn.weight', memory.tensors.get('h.0.attn.c_attn.weight')!.data.map((v, i) => v + (i % 5) * 1e-3)]]);
      const { page, copied, keys } = await exportBoth(files, merged, dtype);
      expect([...copied.keys()]).toEqual([...page.keys()]);
      for (const [name, bytes] of page) expect(copied.get(name), name).toEqual(bytes);
      expect(keys.length).toBeGreaterThan(5);
      expect(keys).not.toContain('transformer.h.0.attn.c_attn.weight');
      // The stored lm_head copy of the tied embedding is unchanged here, so it is copied too.
      expect(keys).toContain('transformer.wte.weight');
    });
  }

  it('refuses a stored non-finite value with EXPORT_NONFINITE (422, with the exporter\'s detail), writing nothing', async () => {
    const src = join(dir, 'nonfinite.bin');
    writeFileSync(src, new Uint8Array(Float32Array.of(7, 1, 2, Infinity, 3).buffer));
    const partial = join(dir, 'nonfinite.partial');
    writeFileSync(partial, new Uint8Array(0));
    const q = new URLSearchParams({ src, start: '4', end: '20', dtype: 'F32', shape: '2,2', to: 'F32', key: 'ln_f.weight', file: 'model.safetensors', offset: '0' });
    const err = await appendStoredTensor(partial, q, async (p) => p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoredCopyError);
    expect((err as StoredCopyError).status).toBe(422);
    const body = JSON.parse((err as Error).message) as { name: string; code: string; detail: string };
    expect(body.code).toBe('EXPORT_NONFINITE');
    expect(body.detail).toMatch(/1 non-finite value\(s\); first at index 2 \(Infinity\)/);
    expect(readFileSync(partial).byteLength).toBe(0);
    // and a range outside the file is refused before anything is read
    await expect(appendStoredTensor(partial, new URLSearchParams({ ...Object.fromEntries(q), end: '24' }), async (p) => p)).rejects.toThrow(/not inside/);
  });
});
