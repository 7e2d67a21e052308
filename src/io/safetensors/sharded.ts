// Sharded checkpoints (docs/formats.md#safetensors-sharded): `model.safetensors.index.json` maps every tensor to a shard file.
// Files are read through a caller-supplied `readFile(name)`, so the same code serves browser File
// objects (picked folder) and Node's fs. The whole shard set is read and cross-checked before anything
// is returned (docs/failure-scenarios.md#a7): each weight_map entry is in exactly the named shard, no tensor is in
// two shards, every shard is valid on its own. `metadata.total_size` is advisory (a warning at most).
// Memory: loadShardedSafetensors holds every shard at once (the ArrayBuffer interface cannot read headers
// alone); loadShardedSafetensorsRanged reads only the headers (tensors stream later, src/io/safetensors/ranged.ts).
import { quote, SafetensorsError, type SafetensorsWarning } from './errors';
import type { ReadOptions } from './header';
import { JsonCursor, type JsonValue } from './json';
import { type RangeReader, readSafetensorsRanged, type StreamedSafetensorsFile } from './ranged';
import { readSafetensors, type SafetensorsFile, type SafetensorsTensor } from './reader';

export const SHARD_INDEX_NAME = 'model.safetensors.index.json';

/** Node's `fs.promises.readFile` (a Buffer) and `File.arrayBuffer()` both fit. */
export type ReadFile = (name: string) => Promise<ArrayBuffer | Uint8Array>;

export interface ShardIndex {
  /** `metadata.total_size` when present and a safe integer, else null. */
  totalSize: number | null;
  /** Tensor name → shard file name, in index order. */
  weightMap: Map<string, string>;
  /** Distinct shard names in order of first appearance. */
  shards: string[];
}

export interface ShardedReadOptions extends ReadOptions {
  /** Default SHARD_INDEX_NAME. */
  indexName?: string;
}

export interface ShardedSafetensors {
  index: ShardIndex;
  /** Every tensor of the weight_map, in index order. */
  tensors: Map<string, SafetensorsTensor>;
  shards: Map<string, SafetensorsFile>;
  warnings: SafetensorsWarning[];
}

/** `model-00001-of-00003.safetensors`: five digits, 1-based, as transformers names shards. */
export function shardFileName(index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `model-${pad(index)}-of-${pad(count)}.safetensors`;
}

/** Parses and validates the index with the strict JSON reader (duplicate keys rejected). */
export function parseShardIndex(source: string | ArrayBuffer | Uint8Array, file = SHARD_INDEX_NAME): ShardIndex {
  const fail = (detail: string, tensor?: string, cause?: unknown): never => {
    throw new SafetensorsError('MODEL_SHARD', file, detail, { tensor, cause });
  };
  let root: JsonValue;
  try {
    const text = typeof source === 'string' ? source : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(source);
    const cur = new JsonCursor(text, file);
    root = cur.readValue(0);
    cur.expectEnd();
  } catch (cause) {
    // Keep the cursor's detail (position, what was wrong) but report it as an index problem.
    return fail(cause instanceof SafetensorsError ? `invalid index JSON: ${cause.detail}` : 'index is not valid UTF-8', undefined, cause);
  }
  if (!(root instanceof Map)) return fail('the index must be a JSON object');
  const weightMapValue = root.get('weight_map');
  if (!(weightMapValue instanceof Map)) return fail('the index has no "weight_map" object');
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of weightMapValue) {
    if (typeof shard !== 'string') return fail('weight_map value must be a shard file name (a string)', tensor);
    checkShardName(shard, tensor, fail);
    weightMap.set(tensor, shard);
  }
  const meta = root.get('metadata');
  const totalSize = meta instanceof Map ? safeUint(meta.get('total_size')) : null;
  return { totalSize, weightMap, shards: [...new Set(weightMap.values())] };
}

/** A JSON integer token that fits a safe integer, else null (total_size is advisory: never an error). */
function safeUint(v: JsonValue | undefined): number | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Map || !v.isUint) return null;
  const n = Number(v.raw);
  return Number.isSafeInteger(n) ? n : null;
}

/** Shard names come from an untrusted file and are handed to `readFile`: plain file names only. */
function checkShardName(shard: string, tensor: string, fail: (d: string, t?: string) => never): void {
  if (shard === '' || shard === '.' || shard === '..' || /[/\\\0]/.test(shard)) {
    fail(`shard name ${quote(shard)} is not a plain file name`, tensor);
  }
}

/** Reads the index through `readFile`, then every shard, and cross-checks the set (see file comment). */
export async function loadShardedSafetensors(readFile: ReadFile, options: ShardedReadOptions = {}): Promise<ShardedSafetensors> {
  const indexName = options.indexName ?? SHARD_INDEX_NAME;
  const index = parseShardIndex(await readOrFail(readFile, indexName, indexName), indexName);
  const shards = new Map<string, SafetensorsFile>();
  for (const name of index.shards) shards.set(name, readSafetensors(await readOrFail(readFile, name, indexName), name, options));
  return crossCheck(index, shards, indexName);
}

/** Opens one shard for ranged reads (the studio's File, the CLI bridge). */
export type OpenRange = (name: string) => Promise<RangeReader>;

/**
 * The streamed variant: the index through `readFile`, each shard's header through its ranged reader; no
 * tensor bytes are read (they come later, tensor by tensor). The same cross-checks run before anything
 * is returned.
 */
export async function loadShardedSafetensorsRanged(readFile: ReadFile, open: OpenRange, options: ShardedReadOptions = {}): Promise<ShardedSafetensors & { shards: Map<string, StreamedSafetensorsFile> }> {
  const indexName = options.indexName ?? SHARD_INDEX_NAME;
  const index = parseShardIndex(await readOrFail(readFile, indexName, indexName), indexName);
  const shards = new Map<string, StreamedSafetensorsFile>();
  for (const name of index.shards) {
    const reader = await readOrFail(open, name, indexName);
    shards.set(name, await readSafetensorsRanged(reader, name, options));
  }
  return crossCheck(index, shards, indexName);
}

function crossCheck<F extends SafetensorsFile>(index: ShardIndex, shards: Map<string, F>, indexName: string): ShardedSafetensors & { shards: Map<string, F> } {
  const warnings: SafetensorsWarning[] = [];
  const owner = new Map<string, string>(); // tensor → the shard that holds it
  for (const [shardName, shard] of shards) {
    warnings.push(...shard.warnings);
    for (const tensor of shard.tensors.keys()) {
      const other = owner.get(tensor);
      if (other !== undefined) {
        throw new SafetensorsError('MODEL_SHARD', shardName, `tensor is also in shard ${quote(other)}`, { tensor });
      }
      owner.set(tensor, shardName);
      if (!index.weightMap.has(tensor)) {
        const message = 'tensor is not listed in the weight_map; ignored';
        warnings.push({ code: 'ST_W_UNINDEXED_TENSOR', file: shardName, tensor, message });
      }
    }
  }
  const tensors = new Map<string, SafetensorsTensor>();
  const sizes = new Map<string, Map<string, number>>();
  let dataBytes = 0;
  for (const [tensor, shardName] of index.weightMap) {
    const shard = shards.get(shardName) as F;
    const t = shard.tensors.get(tensor);
    if (!t) {
      const where = owner.has(tensor) ? `it is in ${quote(owner.get(tensor) as string)} instead` : 'it is in no shard';
      throw new SafetensorsError('MODEL_SHARD', shardName, `the index maps this tensor to ${quote(shardName)}, but ${where}`, { tensor });
    }
    tensors.set(tensor, t);
    dataBytes += byteSize(sizes, shardName, shard).get(tensor) ?? 0;
  }
  if (index.totalSize !== null && index.totalSize !== dataBytes) {
    const message = `metadata.total_size is ${index.totalSize} but the indexed tensors hold ${dataBytes} bytes`;
    warnings.push({ code: 'ST_W_TOTAL_SIZE', file: indexName, message });
  }
  return { index, tensors, shards, warnings };
}

/** Tensor → stored bytes of one shard, from its header (no tensor bytes read), built once per shard. */
function byteSize(cache: Map<string, Map<string, number>>, name: string, shard: SafetensorsFile): Map<string, number> {
  let m = cache.get(name);
  if (!m) cache.set(name, (m = new Map(shard.header.tensors.map((t) => [t.name, t.end - t.begin]))));
  return m;
}

async function readOrFail<T>(readFile: (name: string) => Promise<T>, name: string, indexName: string): Promise<T> {
  try {
    return await readFile(name);
  } catch (cause) {
    const detail = name === indexName ? 'the index could not be read' : `shard named by ${quote(indexName)} could not be read`;
    throw new SafetensorsError('MODEL_SHARD', name, detail, { cause });
  }
}
