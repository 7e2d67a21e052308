// A merged checkpoint folder (docs/formats.md#export-merged): model.safetensors under exactly the tensor names of
// the loaded file (same `transformer.` / `vit.` / `model.` prefix or none, same buffers), F32, canonical writer;
// sharded as transformers shards above max_shard_size (default "5GB" = 5·10⁹ bytes) with
// model.safetensors.index.json; config.json with torch_dtype "float32" (and, for a new ViT head,
// id2label / label2id / num_labels of that head), every other key kept in its order; other companion
// files copied byte for byte. Exception to "same names": a new classifier on a bare ViTModel checkpoint
// gets the `vit.` prefix and architectures ["ViTForImageClassification"], because transformers would
// otherwise prefix every key (classifier included) and drop the head.
import type { LoadedModel, LoadedVit } from '../hfModel';
import { parseJsonObject, type JsonValue } from '../hfModel/json';
import { CONFIG_FILE } from '../hfModel/config';
import { type F32Tensor, SHARD_INDEX_NAME, shardFileName, writeSafetensors } from '../safetensors';
import { PyRaw, pyDumps, type PyValue } from '../peft/pyjson';
import { ExportError } from './errors';

export { doraMerge, mergeDelta } from './merge';

export const MERGED_WEIGHTS_FILE = 'model.safetensors';
/** transformers' default max_shard_size "5GB" (convert_file_size_to_int: 5 × 10⁹ bytes). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface NewHead {
  weight: Float32Array; // (K, C)
  bias: Float32Array; // (K)
  /** "0".."K−1" → class name. */
  id2label: Record<string, string>;
}

export interface MergedModelOptions {
  model: LoadedModel;
  /** Canonical name → merged F32 data (same element count as the loaded tensor); others are copied. */
  merged: ReadonlyMap<string, Float32Array>;
  /** ViT only: the classifier the app created (replaces the checkpoint's, if any). */
  newHead?: NewHead;
  /** config.json, tokenizer files, preprocessor_config.json, generation_config.json… as present. */
  companions: ReadonlyMap<string, Uint8Array | string>;
  /** Shard above this many bytes of tensor data (default 5 GB, as transformers). */
  maxShardBytes?: number;
}

export const WEIGHT_NAME = /^(model\.safetensors|model\.safetensors\.index\.json|model-\d{5}-of-\d{5}\.safetensors|pytorch_model.*\.bin)$/;

export function buildMergedModelFiles(o: MergedModelOptions): Map<string, Uint8Array> {
  const { model } = o;
  const bad = (detail: string, tensor?: string): never => {
    throw new ExportError('EXPORT_INVALID', MERGED_WEIGHTS_FILE, detail, { tensor });
  };
  if (o.newHead && model.kind !== 'vit') bad('a new classification head needs a ViT model');
  if (!o.newHead && model.kind === 'vit' && model.head.reason === 'class-count') {
    bad(`the checkpoint's ${model.head.checkpointClasses}-class head was replaced by a ${model.head.numClasses}-class one; pass newHead`, 'classifier.weight');
  }
  for (const [name, data] of o.merged) {
    const t = model.tensors.get(name);
    if (!t) bad('is not a canonical tensor of the loaded model', name);
    else if (data.length !== t.data.length) bad(`merged data has ${data.length} elements; the loaded tensor has ${t.data.length}`, name);
  }
  // A bare ViTModel given a head: transformers must see the `vit.` prefix to keep the classifier.
  const addVit = o.newHead !== undefined && model.kind === 'vit' && model.prefix === '';
  const rename = (key: string) => (addVit && !key.startsWith('classifier.') ? `vit.${key}` : key);
  const list: [string, F32Tensor][] = [];
  for (const [name, t] of model.tensors) {
    if (o.newHead && name.startsWith('classifier.')) continue; // replaced by the new head
    const key = model.originalKeys.get(name) ?? bad('has no original key', name);
    list.push([rename(key), { shape: [...t.shape], data: o.merged.get(name) ?? t.data }]);
  }
  for (const [key, t] of model.passthrough) {
    if (!t.supported) bad(`buffer has dtype ${t.dtype}; only F32/F16/BF16 buffers can be written as F32`, key);
    // A stored duplicate of a tied head must stay equal to the embedding (the loader checks it).
    const tied = model.kind !== 'vit' && model.tied && key === 'lm_head.weight';
    const tiedCopy = tied ? o.merged.get(model.kind === 'gpt2' ? 'wte.weight' : 'embed_tokens.weight') : undefined;
    list.push([rename(key), { shape: [...t.shape], data: tiedCopy ?? t.data }]);
  }
  let labels: string[] | null = null;
  if (o.newHead) {
    const { weight, bias, id2label } = o.newHead;
    const K = bias.length;
    const C = (model as LoadedVit).config.hidden_size;
    if (K < 1 || weight.length !== K * C) bad(`new head: weight has ${weight.length} elements; expected K·C = ${K}·${C}`, 'classifier.weight');
    labels = Array.from({ length: K }, (_, i) => {
      const label = Object.hasOwn(id2label, String(i)) ? id2label[String(i)] : undefined;
      return typeof label === 'string' ? label : bad(`new head: id2label has no string label for class ${i}`);
    });
    if (Object.keys(id2label).length !== K) bad(`new head: id2label has ${Object.keys(id2label).length} entries for ${K} classes`);
    list.push(['classifier.weight', { shape: [K, C], data: weight }], ['classifier.bias', { shape: [K], data: bias }]);
  }
  const files = writeWeights(list, o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
  files.set(CONFIG_FILE, new TextEncoder().encode(mergedConfig(o, labels, addVit)));
  for (const [name, content] of o.companions) {
    if (name === CONFIG_FILE) continue;
    if (WEIGHT_NAME.test(name)) throw new ExportError('EXPORT_INVALID', name, 'a companion file would overwrite or contradict the exported weights');
    files.set(name, typeof content === 'string' ? new TextEncoder().encode(content) : content);
  }
  return files;
}

/**
 * transformers' split (huggingface_hub split_state_dict_into_shards_factory), in state-dict order: a
 * tensor larger than the limit gets a shard of its own; otherwise a tensor that would tip the current
 * shard over the limit starts a new one. One shard → model.safetensors, no index.
 */
function writeWeights(list: [string, F32Tensor][], maxShardBytes: number): Map<string, Uint8Array> {
  const shards = splitShards(list.map(([, t]) => 4 * t.data.length), maxShardBytes).map((idx) => idx.map((i) => list[i]));
  const total = list.reduce((n, [, t]) => n + 4 * t.data.length, 0);
  const files = new Map<string, Uint8Array>();
  if (shards.length === 1) {
    files.set(MERGED_WEIGHTS_FILE, writeSafetensors(shards[0], { file: MERGED_WEIGHTS_FILE }));
    return files;
  }
  const weightMap = new Map<string, PyValue>();
  shards.forEach((shard, i) => {
    const name = shardFileName(i + 1, shards.length);
    files.set(name, writeSafetensors(shard, { file: name }));
    for (const [key] of shard) weightMap.set(key, name);
  });
  files.set(SHARD_INDEX_NAME, shardIndexBytes(weightMap, total));
  return files;
}

/** model.safetensors.index.json as transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n". */
export function shardIndexBytes(weightMap: Map<string, PyValue>, totalSize: number): Uint8Array {
  const index = new Map<string, PyValue>([['metadata', new Map([['total_size', totalSize]])], ['weight_map', weightMap]]);
  return new TextEncoder().encode(`${pyDumps(index, { sortKeys: true })}\n`);
}

/**
 * transformers' split (huggingface_hub split_state_dict_into_shards_factory) over tensor byte sizes in
 * state-dict order: a tensor larger than the limit gets a shard of its own; otherwise a tensor that would
 * tip the current shard over the limit starts a new one. Returns the entries' indices per shard.
 */
export function splitShards(sizes: readonly number[], maxShardBytes: number): number[][] {
  if (!(maxShardBytes > 0)) throw new ExportError('EXPORT_INVALID', SHARD_INDEX_NAME, `max shard size ${maxShardBytes} must be positive`);
  const shards: number[][] = [];
  let current: number[] = [];
  let size = 0;
  sizes.forEach((bytes, i) => {
    if (bytes > maxShardBytes) {
      shards.push([i]);
      return;
    }
    if (size + bytes > maxShardBytes && current.length > 0) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(i);
    size += bytes;
  });
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/** config.json: the file's keys in their order, torch_dtype ("float32" unless the export is rounded), a new head's labels. */
export function mergedConfig(o: Pick<MergedModelOptions, 'model' | 'companions'>, labels: string[] | null, addVit: boolean, torchDtype = 'float32'): string {
  const given = o.companions.get(CONFIG_FILE);
  const source = given ?? pyDumps(toPy(o.model.config.raw) as PyValue, { sortKeys: false });
  const cfg = toPy(parseJsonObject(source, CONFIG_FILE, 'MODEL_CONFIG')) as Map<string, PyValue>;
  cfg.set('torch_dtype', torchDtype);
  if (cfg.has('dtype')) cfg.set('dtype', torchDtype); // transformers ≥ 5 spelling
  if (labels) {
    cfg.set('id2label', new Map(labels.map((l, i) => [String(i), l])));
    const label2id = new Map<string, PyValue>();
    labels.forEach((l, i) => label2id.set(l, i)); // a repeated name keeps its first place and its last id, as a dict
    cfg.set('label2id', label2id);
    for (const key of ['num_labels', '_num_labels']) if (cfg.has(key)) cfg.set(key, labels.length);
    if (addVit) cfg.set('architectures', ['ViTForImageClassification']);
  }
  return `${pyDumps(cfg, { sortKeys: false })}\n`; // transformers ends config.json with a newline
}

/** Strict-JSON tree → writer values; number tokens keep their text (`1e-05` stays `1e-05`). */
function toPy(v: JsonValue): PyValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(toPy);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, toPy(x)]));
  return new PyRaw(v.raw);
}
