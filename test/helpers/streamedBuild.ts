// Counting a streamed load and engine creation (issue 13 item 1): each canonical tensor's first read
// (load progress) and each GPU upload of it, so a test can prove that JS never holds more than one tensor
// of the model — without timing anything. Used by test/gpu/model/streamed_upload.test.ts (decoders) and
// test/gpu/model/vit_stream.test.ts (ViT).
import { expect } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import { type LoadedModel, type LoadOptions, loadModelDir, type ModelDirSource, sourceFromMap } from '../../src/io/hfModel';
import { bytesRangeReader, countingReader, isStreamed, newReadStats, type ReadStats } from '../../src/io/safetensors';

export async function fixtureFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const n of ['config.json', 'model.safetensors']) {
    const res = await fetch(`/test/fixtures/${dir}/${n}`);
    files.set(n, new Uint8Array(await res.arrayBuffer()));
  }
  return files;
}

/** The same files through ranged reads (as the studio's File.slice and the CLI bridge), counting them. */
export function rangedSource(files: Map<string, Uint8Array>, stats: ReadStats): ModelDirSource {
  const base = sourceFromMap(files);
  return { names: base.names, read: base.read, open: async (name) => countingReader(bytesRangeReader(files.get(name) as Uint8Array), stats) };
}

export interface Ledger {
  /** Bytes read of tensors whose upload has not happened yet, now and at its highest. */
  pending: Map<string, number>;
  peakPending: number;
  reads: string[];
  uploads: string[];
}

export interface StreamedBuild<E> {
  loaded: LoadedModel;
  engine: E;
  stats: ReadStats;
  afterLoad: ReadStats;
  ledger: Ledger;
}

export interface BuildOptions {
  /** Passed to loadModelDir (e.g. a ViT's numClasses). */
  load?: Pick<LoadOptions, 'numClasses' | 'keepTensors'>;
  /**
   * Canonical tensors that become trainable values rather than frozen buffers (a ViT checkpoint's
   * classifier): consumed by the ctx.write of their F32 values into the trainable arena, not an upload.
   */
  trainable?: readonly string[];
}

/**
 * Loads `files` streamed and builds an engine with `create`, recording each tensor's first read (load
 * progress) and each GPU upload of it (ctx.upload, labelled by canonical name or `name[v0:v1]`).
 */
export async function streamedBuild<E>(
  ctx: GpuContext, files: Map<string, Uint8Array>, create: (m: LoadedModel) => Promise<E>, o: BuildOptions = {},
): Promise<StreamedBuild<E>> {
  const stats = newReadStats();
  const ledger: Ledger = { pending: new Map(), peakPending: 0, reads: [], uploads: [] };
  let loaded_: LoadedModel | undefined; // set once the load returns: a read during the load has no name yet
  const loaded = await loadModelDir(rangedSource(files, stats), {
    ...o.load,
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
  loaded_ = loaded;
  const afterLoad = { ...stats };
  const { upload, write } = ctx;
  const consumed = (name: string) => {
    ledger.uploads.push(name);
    ledger.pending.delete(name);
  };
  ctx.upload = (label, data, category) => {
    consumed(label.replace(/\[\d+:\d+\]$/, ''));
    return upload.call(ctx, label, data, category);
  };
  ctx.write = (buffer, data, byteOffset) => {
    // A trainable tensor read from the file is consumed when its values (same element count) are written.
    for (const name of o.trainable ?? []) {
      const t = loaded.tensors.get(name);
      if (ledger.pending.has(name) && t && t.shape.reduce((n, d) => n * d, 1) === data.length) consumed(name);
    }
    write.call(ctx, buffer, data, byteOffset);
  };
  try {
    const engine = await create(loaded);
    loaded_ = undefined;
    return { loaded, engine, stats, afterLoad, ledger };
  } finally {
    ctx.upload = upload;
    ctx.write = write;
  }
}

export function expectOneTensorAtATime(loaded: LoadedModel, files: Map<string, Uint8Array>, r: Pick<StreamedBuild<unknown>, 'stats' | 'afterLoad' | 'ledger'>): void {
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
