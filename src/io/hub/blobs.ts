// Downloaded files as the loader sees them: Blobs (Cache Storage keeps them on disk) behind the same
// ModelDirSource as a dropped folder, so safetensors are read tensor by tensor through Blob.slice and a
// weights file is never one JS buffer (issue 13 item 1). Where nothing can be cached, a file is still
// gathered into a Blob a few MB at a time, so the JS heap never holds it whole either.
import type { ModelDirSource } from '../hfModel/source';
import { blobRangeReader } from '../safetensors';
import type { FileWriter } from './cache';

export function sourceFromBlobs(files: ReadonlyMap<string, Blob>): ModelDirSource {
  const get = (name: string) => {
    const blob = files.get(name);
    if (!blob) throw new Error(`${JSON.stringify(name)} is not a file of the downloaded repo`);
    return blob;
  };
  return {
    names: [...files.keys()],
    read: async (name) => new Uint8Array(await get(name).arrayBuffer()),
    open: async (name) => blobRangeReader(get(name), name),
  };
}

/** Chunks held in JS before they are folded into the Blob (then left to the browser's blob store). */
export const BLOB_FOLD_BYTES = 8 * 1024 * 1024;

/** A writer with no storage behind it: the file as one Blob, built from folded pieces. */
export function blobWriter(foldBytes = BLOB_FOLD_BYTES): FileWriter {
  let pieces: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const fold = () => {
    if (pending.length === 0) return;
    pieces = [new Blob([...pieces, ...(pending as Uint8Array<ArrayBuffer>[])])];
    pending = [];
    pendingBytes = 0;
  };
  return {
    async write(chunk) {
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= foldBytes) fold();
    },
    async close() {
      fold();
      return pieces[0] ?? new Blob([]);
    },
    async abort() { pieces = []; pending = []; pendingBytes = 0; },
  };
}
