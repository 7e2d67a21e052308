// The page's side of the CLI file bridge (src/cli/host.ts): read the user's files, write outputs, and
// keep checkpoints under the output folder (a CheckpointStore over the bridge). Every request carries the
// run's token (given by Node with the job) in a header; the host refuses any request without it.
import { ExportError, type ExportErrorCode, type ExportSink } from '../../io/export';
import type { ModelDirSource } from '../../io/hfModel';
import { countingReader, newReadStats, type RangeReader, type ReadStats, SafetensorsError, type SafetensorsErrorCode } from '../../io/safetensors';
import { type CheckpointStore, storePath } from '../../io/store';
import type { DirRef } from '../jobs';

const join = (root: string, rel: string) => `${root.replace(/\/+$/, '')}/${rel}`;

let token = '';

/** Sets the run's bridge token (src/cli/page/main.ts, before the job starts). */
export function setBridgeToken(t: string): void {
  token = t;
}

/**
 * A request body as a Blob. Playwright drives the page with the DevTools protocol's Network domain on, and
 * Chromium then copies every byte-array request body into that protocol's requestWillBeSent event (base64,
 * through Playwright's Node process): a 64 MiB part uploaded at 0.8–1.3 MB/s on this machine, 18–24 MB/s with
 * no DevTools client. A Blob body is sent from blob storage and never inlined in the event (10–18 MB/s under
 * Playwright on the same loaded machine; docs/engineering.md#cli-uploads). The bytes are copied once into the Blob.
 */
export function uploadBody(bytes: Uint8Array | string): Blob {
  return new Blob([typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes as Uint8Array<ArrayBuffer>]);
}

/** fetch with the token header; same-origin only (relative URLs). */
function bridgeFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { 'x-lorasc-token': token }, cache: 'no-store' });
}

export async function readFile(path: string): Promise<ArrayBuffer> {
  const res = await bridgeFetch(`/__lorasc/file?path=${encodeURIComponent(path)}`);
  if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
  return res.arrayBuffer();
}

export async function writeOut(rel: string, bytes: Uint8Array | string): Promise<void> {
  const res = await bridgeFetch(`/__lorasc/out?path=${encodeURIComponent(rel)}`, { method: 'POST', body: uploadBody(bytes) });
  if (!res.ok) throw new Error(`writing ${rel}: ${await res.text()}`);
}

export async function writeAll(prefix: string, files: ReadonlyMap<string, Uint8Array>): Promise<string[]> {
  const written: string[] = [];
  for (const [name, bytes] of files) {
    const rel = prefix ? `${prefix}/${name}` : name;
    await writeOut(rel, bytes);
    written.push(rel);
  }
  return written;
}

/**
 * A folder of the output folder as an export sink (issue 13 item 6): small files whole, weights files in
 * parts appended at their offset (out-part) and renamed into place once complete (out-commit), so the page
 * never holds a whole file and a crash leaves only a `.partial` name.
 */
const PART_BYTES = 64 << 20;

export function outSink(prefix: string): ExportSink {
  const relOf = (name: string) => (prefix ? `${prefix}/${name}` : name);
  return {
    file: (name, bytes) => writeOut(relOf(name), bytes),
    async open(name) {
      const rel = relOf(name);
      let offset = 0;
      const q = (route: string, extra: string) => `/__lorasc/${route}?path=${encodeURIComponent(rel)}&${extra}`;
      return {
        async append(bytes) {
          // In parts of at most PART_BYTES: one request body of a whole 622 MB embedding is one more copy of it
          // in the renderer (and the browser) while the request is in flight.
          for (let at = 0; at < bytes.byteLength; at += PART_BYTES) {
            const part = bytes.subarray(at, Math.min(bytes.byteLength, at + PART_BYTES));
            const res = await bridgeFetch(q('out-part', `offset=${offset}`), { method: 'POST', body: uploadBody(part) });
            if (!res.ok) throw new Error(`writing ${rel}: ${await res.text()}`);
            offset += part.byteLength;
          }
        },
        // An unchanged tensor: the host copies it from the checkpoint (src/cli/storedCopy.ts), no bytes cross the page.
        async appendStored(slice, o) {
          const p = new URLSearchParams({
            offset: String(offset), src: slice.path, start: String(slice.start), end: String(slice.end), dtype: slice.dtype,
            shape: slice.shape.join(','), to: o.dtype, key: o.key, file: name,
          });
          const res = await bridgeFetch(q('out-copy', p.toString()), { method: 'POST' });
          const text = await res.text();
          if (res.status === 422) {
            // The export's own refusal (non-finite, overflow), with its code, as the page path throws it.
            const e = JSON.parse(text) as { name: string; code: string; detail: string };
            throw e.name === 'ExportError' ? new ExportError(e.code as ExportErrorCode, name, e.detail, { tensor: o.key })
              : new SafetensorsError(e.code as SafetensorsErrorCode, name, e.detail, { tensor: o.key });
          }
          if (!res.ok) throw new Error(`writing ${rel}: ${text}`);
          const { bytes } = JSON.parse(text) as { bytes: number };
          offset += bytes;
          return bytes;
        },
        async close() {
          const res = await bridgeFetch(q('out-commit', `size=${offset}`), { method: 'POST' });
          if (!res.ok) throw new Error(`writing ${rel}: ${await res.text()}`);
        },
      };
    },
  };
}

const outUrl = (rel: string) => `/__lorasc/out?path=${encodeURIComponent(rel)}`;

/** A folder of the output folder as a checkpoint store (names are relative to it). */
export function outStore(folder: string): CheckpointStore {
  const rel = (name: string) => `${folder}/${storePath(name).join('/')}`;
  const check = async (res: Response, what: string) => { if (!res.ok) throw new Error(`${what}: ${await res.text()}`); return res; };
  return {
    write: (name, bytes) => writeOut(rel(name), bytes),
    async read(name) {
      const res = await bridgeFetch(outUrl(rel(name)));
      if (res.status === 404) return null;
      return new Uint8Array(await (await check(res, `reading ${rel(name)}`)).arrayBuffer());
    },
    async list() {
      const res = await check(await bridgeFetch(`/__lorasc/out-list?path=${encodeURIComponent(folder)}`), `listing ${folder}`);
      return await res.json() as string[];
    },
    async remove(name) {
      await check(await bridgeFetch(outUrl(rel(name)), { method: 'DELETE' }), `removing ${rel(name)}`);
    },
  };
}

/** Every ranged read of this page's job (what the CLI reports as the load's reads and its largest one). */
export const bridgeReadStats: ReadStats = newReadStats();

/**
 * A file of the bridge read by byte ranges (issue 13 item 1): its size from &stat=1, then one ranged GET per
 * read. Model files are streamed tensor by tensor through it, never fetched whole.
 */
export async function openRange(path: string): Promise<RangeReader> {
  const url = `/__lorasc/file?path=${encodeURIComponent(path)}`;
  const res = await bridgeFetch(`${url}&stat=1`);
  if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
  const { size } = await res.json() as { size: number };
  const name = path.split('/').pop() as string;
  const reader: RangeReader = {
    size,
    async read(start, end) {
      if (end <= start) return new Uint8Array(0);
      let r: Response;
      try {
        r = await fetch(url, { headers: { 'x-lorasc-token': token, range: `bytes=${start}-${end - 1}` }, cache: 'no-store' });
      } catch (cause) {
        throw new SafetensorsError('ST_READ', name, `reading bytes [${start}, ${end}) failed (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
      }
      if (r.status !== 206) throw new SafetensorsError('ST_READ', name, `reading bytes [${start}, ${end}) failed: ${(await r.text()).split('\n')[0]}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (bytes.byteLength !== end - start) throw new SafetensorsError('MODEL_FILE_CHANGED', name, `bytes [${start}, ${end}) came back as ${bytes.byteLength} bytes; the file changed on disk`);
      return bytes;
    },
  };
  return countingReader(reader, bridgeReadStats);
}

/** A model (or adapter) folder as the loaders see it: its top-level files, safetensors streamed by ranges. */
export function dirSource(dir: DirRef): ModelDirSource {
  const top = dir.files.filter((f) => !f.includes('/'));
  return { names: top, read: (name) => readFile(join(dir.root, name)), open: (name) => openRange(join(dir.root, name)) };
}

export const pathIn = (dir: DirRef, rel: string) => join(dir.root, rel);
