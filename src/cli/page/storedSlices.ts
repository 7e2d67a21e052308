// Where each tensor a streamed export writes unchanged is stored in the user's checkpoint (the file, its byte
// range, dtype and shape), so the CLI host copies it file→file (src/cli/storedCopy.ts) instead of the page
// uploading it. Only tensors the load left streamed are listed: their loaded values are, by construction, the
// stored bytes widened to F32, which is exactly what the host writes.
import type { StoredSlice } from '../../io/export';
import type { LoadedModel } from '../../io/hfModel';
import { isStreamed, parseShardIndex, readHeaderRanged, SHARD_INDEX_NAME, type SafetensorsTensor } from '../../io/safetensors';
import type { DirRef } from '../jobs';
import { openRange, readFile } from './bridge';

const SINGLE = 'model.safetensors';

export async function storedSlices(dir: DirRef, loaded: LoadedModel): Promise<(key: string) => StoredSlice | undefined> {
  const path = (name: string) => `${dir.root.replace(/\/+$/, '')}/${name}`;
  const files = dir.files.includes(SHARD_INDEX_NAME) ? parseShardIndex(await readFile(path(SHARD_INDEX_NAME))).shards
    : dir.files.includes(SINGLE) ? [SINGLE] : [];
  const stored = new Map<string, StoredSlice>();
  for (const name of files) {
    const header = await readHeaderRanged(await openRange(path(name)), name);
    for (const t of header.tensors) {
      stored.set(t.name, { path: path(name), start: header.dataStart + t.begin, end: header.dataStart + t.end, dtype: t.dtype, shape: t.shape });
    }
  }
  const byKey = new Map<string, SafetensorsTensor>();
  for (const [name, t] of loaded.tensors) byKey.set(loaded.originalKeys.get(name) ?? name, t);
  for (const [key, t] of loaded.passthrough) byKey.set(key, t);
  return (key) => {
    const t = byKey.get(key), s = stored.get(key);
    const same = t && s && isStreamed(t) && t.dtype === s.dtype && t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    return same ? s : undefined;
  };
}
