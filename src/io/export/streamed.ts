// The merged checkpoint written tensor by tensor (issue 13 item 6): the same folder as buildMergedModelFiles
// (same names, F32, canonical writer layout, transformers' shard split and index, config.json with
// torch_dtype "float32", companions copied) — byte for byte — but no file is ever built in memory: each
// shard's header is laid out from names and shapes, then each tensor is produced (merged on demand, or read
// from the loaded checkpoint, streamed from disk when the load was), checked, appended to the sink and let go.
// Peak memory beyond the loaded base is one tensor (two with a BF16/F16 export: the merge and its base, for
// the rounding tally, ./precision.ts). A new ViT head (a renamed folder) is not streamed:
// those models are small, and buildMergedModelFiles writes them. With `dtype` BF16/F16 the same folder
// holds the F32 merge rounded once (./precision.ts) and config.json says bfloat16/float16.
import type { LoadedModel } from '../hfModel';
import { CONFIG_FILE } from '../hfModel/config';
import { checkF32Tensor, layoutSafetensors, parseHeader, SHARD_INDEX_NAME, shardFileName, tensorBytes, tensorFloat32 } from '../safetensors';
import type { PyValue } from '../peft/pyjson';
import { ExportError } from './errors';
import { DTYPE_BYTES, type ExportDtype, exportTensorBytes, type RoundingTally, TORCH_DTYPE } from './precision';
import { DEFAULT_MAX_SHARD_BYTES, MERGED_WEIGHTS_FILE, mergedConfig, shardIndexBytes, splitShards, WEIGHT_NAME } from './merged';

/** Where the folder goes: whole small files, and large ones in parts (the CLI bridge, a directory handle). */
export interface ExportSink {
  file(name: string, bytes: Uint8Array): Promise<void>;
  /** A file written in order, part after part; it appears under `name` only once closed. */
  open(name: string): Promise<{ append(bytes: Uint8Array): Promise<void>; close(): Promise<void> }>;
}

export interface StreamedMergedOptions {
  model: LoadedModel;
  /** The merged F32 values of a canonical tensor, or undefined when it is written as loaded. */
  merged: (canonicalName: string) => Promise<Float32Array | undefined> | Float32Array | undefined;
  companions: ReadonlyMap<string, Uint8Array | string>;
  /** Default 5 GB, as transformers. */
  maxShardBytes?: number;
  onTensor?: (key: string, done: number, total: number) => void;
  /** F32 (default) or a half type the F32 values are rounded to once (docs/formats.md#export-precision). */
  dtype?: ExportDtype;
  /** With a half dtype: fed every merged tensor with its base, to say how much of the update survived. */
  tally?: RoundingTally;
}

interface Entry {
  key: string;
  shape: readonly number[];
  /** The values to write: merged, or as loaded; `base` is set for a merged canonical tensor. */
  produce: () => Promise<{ data: Float32Array; base?: () => Promise<Float32Array> }>;
}

/** Writes the merged folder; returns the file names written, weights first. */
export async function writeMergedModelStreamed(o: StreamedMergedOptions, sink: ExportSink): Promise<string[]> {
  const { model } = o;
  const bad = (detail: string, tensor?: string): never => {
    throw new ExportError('EXPORT_INVALID', MERGED_WEIGHTS_FILE, detail, { tensor });
  };
  if (model.kind === 'vit' && model.head.newHead) bad('a ViT with a new head is exported with buildMergedModelFiles, not streamed');
  const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const entries: Entry[] = [];
  for (const [name, t] of model.tensors) {
    const key = model.originalKeys.get(name) ?? bad('has no original key', name);
    entries.push({ key, shape: t.shape, produce: async () => {
      const m = await o.merged(name);
      return m ? { data: m, base: () => tensorFloat32(t) } : { data: await tensorFloat32(t) };
    } });
  }
  for (const [key, t] of model.passthrough) {
    if (!t.supported) bad(`buffer has dtype ${t.dtype}; only F32/F16/BF16 buffers can be written as F32`, key);
    // A stored duplicate of a tied head must stay equal to the embedding (the loader checks it).
    const tied = model.kind !== 'vit' && model.tied && key === 'lm_head.weight';
    const embedding = model.kind === 'gpt2' ? 'wte.weight' : 'embed_tokens.weight';
    entries.push({ key, shape: t.shape, produce: async () => ({ data: (tied ? await o.merged(embedding) : undefined) ?? await tensorFloat32(t) }) });
  }
  const dtype = o.dtype ?? 'F32';
  if (dtype !== 'F32' && o.tally && o.tally.dtype !== dtype) bad(`the rounding tally counts ${o.tally.dtype}, the export is ${dtype}`);
  const shards = splitShards(entries.map((e) => DTYPE_BYTES[dtype] * numel(e.shape)), o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES).map((idx) => idx.map((i) => entries[i]));
  const written: string[] = [];
  const weightMap = new Map<string, PyValue>();
  let done = 0;
  let total = 0;
  for (let s = 0; s < shards.length; s++) {
    const name = shards.length === 1 ? MERGED_WEIGHTS_FILE : shardFileName(s + 1, shards.length);
    const byKey = new Map(shards[s].map((e) => [e.key, e]));
    const layout = layoutSafetensors(shards[s].map((e) => [e.key, e.shape] as const), { file: name, dtype });
    // The header as the strict reader sees it (the in-memory writer re-reads its whole file for this).
    parseHeader(layout.head.subarray(8), layout.totalBytes, name);
    const w = await sink.open(name);
    await w.append(layout.head);
    for (const { name: key, shape, begin, end } of layout.order) {
      const { data, base } = await (byKey.get(key) as Entry).produce();
      if (data.length !== numel(shape)) bad(`merged data has ${data.length} elements; the loaded tensor has ${numel(shape)}`, key);
      checkF32Tensor(key, { shape, data }, name);
      let bytes: Uint8Array;
      if (dtype === 'F32') bytes = tensorBytes({ shape, data });
      else {
        bytes = exportTensorBytes(dtype, data, name, key);
        if (o.tally && base) o.tally.add(await base(), data, new Uint16Array(bytes.buffer, bytes.byteOffset, data.length));
      }
      if (bytes.byteLength !== end - begin) bad('tensor bytes do not fit the header', key);
      await w.append(bytes);
      weightMap.set(key, name);
      total += bytes.byteLength;
      o.onTensor?.(key, ++done, entries.length);
    }
    await w.close();
    written.push(name);
  }
  if (shards.length > 1) {
    await sink.file(SHARD_INDEX_NAME, shardIndexBytes(weightMap, total));
    written.push(SHARD_INDEX_NAME);
  }
  await sink.file(CONFIG_FILE, new TextEncoder().encode(mergedConfig(o, null, false, TORCH_DTYPE[dtype])));
  written.push(CONFIG_FILE);
  for (const [name, content] of o.companions) {
    if (name === CONFIG_FILE) continue;
    if (WEIGHT_NAME.test(name)) throw new ExportError('EXPORT_INVALID', name, 'a companion file would overwrite or contradict the exported weights');
    await sink.file(name, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    written.push(name);
  }
  return written;
}
