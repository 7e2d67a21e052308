// Where the studio's merged export goes, tensor by tensor (issue 13 item 6; docs/formats.md#export-merged):
//  - a folder the user picked (showDirectoryPicker → FileSystemDirectoryHandle): each file through
//    createWritable(), which writes a swap file and puts it in place on close, so a failed export leaves no
//    half-written model.safetensors under its name;
//  - else a streamed .zip (fflate's Zip with stored entries) written part by part into a file in the origin's
//    private storage (OPFS), handed to the page as a disk-backed File for the download: the model is never
//    held twice in memory. Without OPFS the zip's parts are kept and joined into one Blob (small models).
// fflate writes no Zip64 records: a zip's entries and offsets are 32-bit, so a zip above ZIP_LIMIT is refused
// before anything is written, with the folder export named as the way out.
import { Zip, ZipPassThrough } from 'fflate';
import type { ExportSink } from '../io/export';

/** 4 GiB less room for the central directory: the largest zip without Zip64. */
export const ZIP_LIMIT = 2 ** 32 - 2 ** 20;
const EXPORTS_DIR = 'lorasc-exports';

/** The folder sink: `folder` is created inside the picked directory and the files go into it. */
export async function directorySink(root: FileSystemDirectoryHandle, folder: string): Promise<ExportSink> {
  const dir = await root.getDirectoryHandle(folder, { create: true });
  const open = async (name: string) => {
    const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
    return {
      append: async (bytes: Uint8Array) => {
        try { await w.write(bytes as unknown as BufferSource); } catch (e) { await w.abort().catch(() => undefined); throw e; }
      },
      close: () => w.close(),
    };
  };
  return {
    open,
    file: async (name, bytes) => {
      const w = await open(name);
      await w.append(bytes);
      await w.close();
    },
  };
}

/** Appends bytes to a new file in OPFS: createWritable where the browser has it there, else a sync handle (workers). */
async function opfsAppender(name: string): Promise<{ append(b: Uint8Array): Promise<void>; close(): Promise<File> }> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(EXPORTS_DIR, { create: true });
  const handle = await dir.getFileHandle(name, { create: true });
  if (typeof handle.createWritable === 'function') {
    const w = await handle.createWritable();
    return {
      append: async (b) => { await w.write(b as unknown as BufferSource); },
      close: async () => { await w.close(); return handle.getFile(); },
    };
  }
  const sync = await (handle as unknown as { createSyncAccessHandle(): Promise<{ write(d: Uint8Array, o: { at: number }): number; truncate(n: number): void; flush(): void; close(): void }> }).createSyncAccessHandle();
  sync.truncate(0);
  let at = 0;
  return {
    append: async (b) => { at += sync.write(b, { at }); },
    close: async () => { sync.flush(); sync.close(); return handle.getFile(); },
  };
}

export interface ZipExport {
  sink: ExportSink;
  /** Ends the archive; the zip as a File (OPFS, disk-backed) or a Blob of its parts. */
  finish(): Promise<Blob>;
}

/**
 * A streamed zip under one top-level folder. Entries are stored (safetensors barely compress); each file's
 * parts go through as they come and fflate's output is written as it is produced, in order.
 */
export async function zipSink(fileName: string, folder: string, useOpfs = typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function'): Promise<ZipExport> {
  const out = useOpfs ? await opfsAppender(fileName) : null;
  const parts: Uint8Array[] = [];
  let written = Promise.resolve();
  let failed: unknown;
  let ended: () => void = () => undefined;
  const end = new Promise<void>((resolve) => { ended = resolve; });
  const zip = new Zip((err, chunk, final) => {
    if (err) { failed = err; ended(); return; }
    if (out) written = written.then(() => out.append(chunk));
    else parts.push(chunk);
    if (final) ended();
  });
  let total = 0;
  const grow = (n: number) => {
    total += n;
    if (total > ZIP_LIMIT) {
      throw new Error(`the merged model is over ${(ZIP_LIMIT / 2 ** 30).toFixed(0)} GiB, more than a .zip without Zip64 holds; save it as a folder instead (a browser with the File System Access API: Chrome, Edge)`);
    }
  };
  const drain = async () => {
    await written;
    if (failed) throw failed;
  };
  const open = async (name: string) => {
    const entry = new ZipPassThrough(`${folder}/${name}`);
    zip.add(entry);
    return {
      append: async (b: Uint8Array) => { grow(b.byteLength); entry.push(b); await drain(); },
      close: async () => { entry.push(new Uint8Array(0), true); await drain(); },
    };
  };
  return {
    sink: {
      open,
      file: async (name, bytes) => { const w = await open(name); await w.append(bytes); await w.close(); },
    },
    finish: async () => {
      zip.end();
      await end;
      await drain();
      if (out) return out.close();
      return new Blob(parts as BlobPart[], { type: 'application/zip' });
    },
  };
}

/** Refuses before writing when the export will not fit a zip (tensor bytes are known from the shapes). */
export function checkZipSize(bytes: number): void {
  if (bytes > ZIP_LIMIT) {
    throw new Error(`the merged model is ${(bytes / 1e9).toFixed(2)} GB, more than a .zip without Zip64 holds (4 GiB); save it as a folder instead (a browser with the File System Access API: Chrome, Edge)`);
  }
}
