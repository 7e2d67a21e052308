// A model folder as the loader sees it: the file names and a way to read one file. The same interface
// covers a folder picked in the browser (File objects from <input webkitdirectory> or directory handles)
// and Node (`{ names: await readdir(dir), read: (n) => readFile(join(dir, n)) }` — a Buffer is a
// Uint8Array). Only top-level files of the folder count: transformers reads nothing from subfolders.
import { blobRangeReader, type RangeReader } from '../safetensors';

export interface ModelDirSource {
  /** File names directly in the folder. */
  readonly names: readonly string[];
  /** The file's bytes; may reject (NotReadableError when the file changed on disk, docs/failure-scenarios.md#a11). */
  read(name: string): Promise<ArrayBuffer | Uint8Array>;
  /**
   * Byte-range access to a file (issue 13 item 1): where present, safetensors files are streamed tensor
   * by tensor through it (`File.slice`, the CLI bridge's ranged GETs) instead of being read whole.
   */
  open?(name: string): Promise<RangeReader>;
}

/**
 * From browser File objects. With <input webkitdirectory>, `webkitRelativePath` is "folder/name" for
 * top-level files and longer for files in subfolders (onnx/, …), which are skipped.
 */
export function sourceFromFiles(files: Iterable<File>): ModelDirSource {
  const byName = new Map<string, File>();
  for (const file of files) {
    const rel = file.webkitRelativePath ?? '';
    if (rel.split('/').length > 2) continue;
    if (!byName.has(file.name)) byName.set(file.name, file);
  }
  return {
    names: [...byName.keys()],
    read: (name) => {
      const file = byName.get(name);
      return file ? file.arrayBuffer() : Promise.reject(notInFolder(name));
    },
    open: async (name) => {
      const file = byName.get(name);
      if (!file) throw notInFolder(name);
      return blobRangeReader(file, name);
    },
  };
}

/** From bytes or text in memory (tests, built-in demo models fetched as a bundle). */
export function sourceFromMap(files: ReadonlyMap<string, ArrayBuffer | Uint8Array | string>): ModelDirSource {
  return {
    names: [...files.keys()],
    read: async (name) => {
      const v = files.get(name);
      if (v === undefined) throw notInFolder(name);
      return typeof v === 'string' ? new TextEncoder().encode(v) : v;
    },
  };
}

/**
 * Restricts reads to listed names: shard names come from an untrusted index, and a user-supplied
 * `read` (Node fs) must never be handed a name that is not a file of this folder.
 */
export function guardedRead(source: ModelDirSource): (name: string) => Promise<ArrayBuffer | Uint8Array> {
  const names = new Set(source.names);
  return (name) => (names.has(name) ? source.read(name) : Promise.reject(notInFolder(name)));
}

/** The same guard for ranged opens (a source without `open` has none to guard). */
export function guardedOpen(source: ModelDirSource & { open: NonNullable<ModelDirSource['open']> }): (name: string) => Promise<RangeReader> {
  const names = new Set(source.names);
  return (name) => (names.has(name) ? source.open(name) : Promise.reject(notInFolder(name)));
}

function notInFolder(name: string): Error {
  return new Error(`${JSON.stringify(name)} is not a file of the model folder`);
}
