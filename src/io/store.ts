// Where checkpoints live: a flat namespace of '/'-separated file names (one store per run). Three
// implementations share this interface: OPFS in the studio (./opfs.ts), the CLI's --out folder through
// the host's file bridge (../cli/page/bridge.ts), and memory for tests. A store only moves bytes; the
// commit protocol (blobs first, manifest last, verify on load) is ../train/checkpoint.ts.

export interface CheckpointStore {
  /** Writes a whole file, creating folders on the way; replaces an existing file. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  /** The file's bytes, or null when there is no such file. */
  read(name: string): Promise<Uint8Array | null>;
  /** Every file name in the store, '/'-separated, in no particular order. */
  list(): Promise<string[]>;
  /** Removes a file, or a folder with everything under it; a missing name is not an error. */
  remove(name: string): Promise<void>;
}

export type StoreErrorCode = 'STORE_NAME' | 'STORE_QUOTA' | 'STORE_IO' | 'STORE_UNAVAILABLE';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(readonly code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Refuses names that could leave the store: empty parts, '.', '..', backslashes, absolute paths. */
export function storePath(name: string): string[] {
  const parts = name.split('/');
  if (name === '' || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) {
    throw new StoreError('STORE_NAME', `checkpoint store: ${JSON.stringify(name)} is not a relative file name`);
  }
  return parts;
}

/** A store in memory (tests, and runs that want only the in-memory rollback point). Files are copied in and out. */
export class MemoryStore implements CheckpointStore {
  readonly files = new Map<string, Uint8Array>();

  async write(name: string, bytes: Uint8Array): Promise<void> {
    storePath(name);
    this.files.set(name, bytes.slice());
  }

  async read(name: string): Promise<Uint8Array | null> {
    storePath(name);
    return this.files.get(name)?.slice() ?? null;
  }

  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }

  async remove(name: string): Promise<void> {
    storePath(name);
    for (const k of [...this.files.keys()]) if (k === name || k.startsWith(`${name}/`)) this.files.delete(k);
  }
}
