// Checkpoints in the Origin Private File System (docs/reliability.md#checkpoints-and-exact-resume): navigator.storage.getDirectory(),
// one directory per run id under `lorasc-runs/`. A file is written under a temporary name and then
// moved onto its own name where the browser has FileSystemHandle.move (Chrome); elsewhere it is written
// in place, and the manifest-last rule of ../train/checkpoint.ts is what keeps a torn write from ever
// loading. createWritable() commits on close() (through a swap file); where only the worker-only
// createSyncAccessHandle() exists, the file is flushed before close.
import { type CheckpointStore, StoreError, storePath } from './store';

const RUNS_DIR = 'lorasc-runs';
const TMP_SUFFIX = '.partial';

interface MovableHandle extends FileSystemFileHandle {
  move?: (newName: string) => Promise<void>;
}

interface SyncHandle {
  write(data: Uint8Array, o: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

export function opfsAvailable(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

async function runsRoot(): Promise<FileSystemDirectoryHandle> {
  if (!opfsAvailable()) throw new StoreError('STORE_UNAVAILABLE', 'this browser has no Origin Private File System (navigator.storage.getDirectory); checkpoints cannot be kept');
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(RUNS_DIR, { create: true });
}

const isNotFound = (e: unknown) => e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');

function ioError(what: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const quota = e instanceof DOMException && e.name === 'QuotaExceededError';
  return new StoreError(quota ? 'STORE_QUOTA' : 'STORE_IO', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  if (typeof handle.createWritable === 'function') {
    const w = await handle.createWritable();
    try {
      await w.write(bytes as unknown as BufferSource);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => undefined);
      throw e;
    }
    return;
  }
  const sync = await (handle as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
  try {
    sync.truncate(0);
    sync.write(bytes, { at: 0 });
    sync.flush();
  } finally {
    sync.close();
  }
}

/** One run's checkpoints in OPFS: lorasc-runs/<runId>/… */
export class OpfsStore implements CheckpointStore {
  constructor(readonly runId: string) {
    storePath(runId);
  }

  private async dir(parts: string[], create: boolean): Promise<FileSystemDirectoryHandle> {
    let d = await (await runsRoot()).getDirectoryHandle(this.runId, { create });
    for (const p of parts) d = await d.getDirectoryHandle(p, { create });
    return d;
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    const parts = storePath(name);
    const file = parts.pop() as string;
    try {
      const dir = await this.dir(parts, true);
      const tmp = await dir.getFileHandle(file + TMP_SUFFIX, { create: true }) as MovableHandle;
      if (typeof tmp.move !== 'function') {
        await dir.removeEntry(file + TMP_SUFFIX).catch(() => undefined);
        await writeFile(dir, file, bytes);
        return;
      }
      await writeFile(dir, file + TMP_SUFFIX, bytes);
      await dir.removeEntry(file).catch((e: unknown) => { if (!isNotFound(e)) throw e; });
      await tmp.move(file);
    } catch (e) {
      throw ioError(`writing ${this.runId}/${name}`, e);
    }
  }

  async read(name: string): Promise<Uint8Array | null> {
    const parts = storePath(name);
    const file = parts.pop() as string;
    try {
      const dir = await this.dir(parts, false);
      const f = await (await dir.getFileHandle(file)).getFile();
      return new Uint8Array(await f.arrayBuffer());
    } catch (e) {
      if (isNotFound(e)) return null;
      throw ioError(`reading ${this.runId}/${name}`, e);
    }
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (d: FileSystemDirectoryHandle, prefix: string) => {
      for await (const [name, h] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
        if (h.kind === 'directory') await walk(h as FileSystemDirectoryHandle, `${prefix}${name}/`);
        else if (!name.endsWith(TMP_SUFFIX)) out.push(prefix + name);
      }
    };
    try {
      await walk(await this.dir([], false), '');
    } catch (e) {
      if (!isNotFound(e)) throw ioError(`listing ${this.runId}`, e);
    }
    return out;
  }

  async remove(name: string): Promise<void> {
    const parts = storePath(name);
    const last = parts.pop() as string;
    try {
      const dir = await this.dir(parts, false);
      await dir.removeEntry(last, { recursive: true });
    } catch (e) {
      if (!isNotFound(e)) throw ioError(`removing ${this.runId}/${name}`, e);
    }
  }
}

/** The run ids that have a folder in OPFS (an empty list where there is no OPFS). */
export async function listOpfsRuns(): Promise<string[]> {
  if (!opfsAvailable()) return [];
  const out: string[] = [];
  for await (const [name, h] of ((await runsRoot()) as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (h.kind === 'directory') out.push(name);
  }
  return out;
}

/** Deletes a run's folder with all its checkpoints. */
export async function removeOpfsRun(runId: string): Promise<void> {
  storePath(runId);
  try {
    await (await runsRoot()).removeEntry(runId, { recursive: true });
  } catch (e) {
    if (!isNotFound(e)) throw ioError(`removing run ${runId}`, e);
  }
}
