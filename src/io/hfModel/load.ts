// Loads a Hugging Face model folder: config.json, then model.safetensors (or the shards named by
// model.safetensors.index.json), then matches every tensor against the config (match.ts) and returns
// the canonical parameters with the original key of each, for export (docs/formats.md#export-merged: same names, same
// prefix, same buffers as the loaded file). Nothing is uploaded here. In memory (a source without
// `open`), tensors convert to F32 lazily on `.data`. Streamed (a source with `open`: the studio's File
// objects, the CLI bridge), only the headers are read and everything is checked; the canonical
// tensors stay on disk until the engine reads each once to upload it (one ranged read, with progress;
// see fetchCanonical), and whoever needs their values later reads them again (tensorFloat32);
// passthrough tensors (GPT-2 attn.bias buffers, a tied head's stored copy) stay on disk until an export streams them.
// No whole file is ever one buffer. Everything is checked before anything is returned (docs/failure-scenarios.md#a7, #a9).
//
// Refusals: ModelDirError (config, missing/mismatched tensors, pickle-only folders) or, for the
// container itself, SafetensorsError (ST_* codes, MODEL_SHARD), both naming the file.
import { type Gpt2Config, type LlamaConfig, type VitConfig, CONFIG_FILE, MAX_LABELS, parseModelConfig } from './config';
import { checkPreprocessorFits, parsePreprocessorConfig, PREPROCESSOR_FILE, type PreprocessorConfig } from '../preprocess';
import {
  compareUtf8, isStreamed, loadShardedSafetensors, loadShardedSafetensorsRanged, readSafetensors, readSafetensorsRanged, SHARD_INDEX_NAME,
  type SafetensorsTensor,
} from '../safetensors';
import { ModelDirError, readFailure } from './errors';
import { numel, vitClassifier } from './layout';
import { matchGpt2, matchLlama, matchVit, type Matched, type StoredTensor, type VitHeadInfo } from './match';
import { guardedOpen, guardedRead, type ModelDirSource } from './source';

export const WEIGHTS_FILE = 'model.safetensors';

export interface LoadOptions {
  /** ViT: the class count of the user's task; default the checkpoint's (config num_labels). Ignored for decoders. */
  numClasses?: number;
  /** Largest safetensors header accepted (see the safetensors reader's DEFAULT_HEADER_CAP). */
  maxHeaderBytes?: number;
  /**
   * Streamed sources: read every canonical tensor at load and keep it as F32 (the behaviour before
   * tensor-by-tensor upload), for a caller whose load must be complete before any engine exists (the
   * studio's load bar). Default false: the tensors stay on disk until the engine uploads them.
   */
  keepTensors?: boolean;
  /** Streamed sources: called after each tensor's first read (bytes so far of the total the engine needs). */
  onProgress?: (p: LoadProgress) => void;
}

/** Progress of a streamed load: the canonical tensors' stored bytes, read one tensor at a time. */
export interface LoadProgress {
  bytes: number;
  totalBytes: number;
  tensor: string;
  /** Milliseconds since the first tensor read began. */
  elapsedMs: number;
}

export interface MemoryEstimate {
  /** Canonical parameters, plus the new classifier when one will be created. */
  parameters: number;
  /** 4 × parameters: the frozen base weights held as F32. */
  f32Bytes: number;
  /** Parameters of the classifier the app will create (0 when none). */
  newHeadParameters: number;
  /** Bytes, as stored, of the tensors kept only for export (buffers, tied duplicate, pooler). */
  passthroughBytes: number;
}

interface LoadedCommon extends Matched {
  /** Files the tensors were read from: [model.safetensors] or the shards in index order. */
  weightFiles: string[];
  memory: MemoryEstimate;
  /** Non-fatal findings (unknown header fields, unindexed tensors, approximated resample filter). */
  warnings: string[];
}

export interface LoadedGpt2 extends LoadedCommon {
  kind: 'gpt2';
  config: Gpt2Config;
  /** LM head = wte; when false the canonical tensors include `lm_head.weight`. */
  tied: boolean;
}

export interface LoadedVit extends LoadedCommon {
  kind: 'vit';
  config: VitConfig;
  head: VitHeadInfo;
  /** preprocessor_config.json when the folder has one (checked against image_size and channels). */
  preprocessor: PreprocessorConfig | null;
}

/** Llama, Mistral, Qwen2 or Qwen3 (config.model_type says which; one engine with switches). */
export interface LoadedLlama extends LoadedCommon {
  kind: 'llama';
  config: LlamaConfig;
  /** LM head = embed_tokens; when false the canonical tensors include `lm_head.weight`. */
  tied: boolean;
}

export type LoadedModel = LoadedGpt2 | LoadedVit | LoadedLlama;

const PICKLE = /\.(bin|pt|pth|ckpt|pkl)$/i;

export async function loadModelDir(source: ModelDirSource, options: LoadOptions = {}): Promise<LoadedModel> {
  const { numClasses } = options;
  if (numClasses !== undefined && (!Number.isSafeInteger(numClasses) || numClasses < 1 || numClasses > MAX_LABELS)) {
    throw new RangeError(`numClasses must be an integer in 1..${MAX_LABELS}, got ${numClasses}`);
  }
  const names = new Set(source.names);
  if (!names.has(CONFIG_FILE)) throw new ModelDirError('MODEL_CONFIG', CONFIG_FILE, 'the folder has no config.json');
  const config = parseModelConfig(await readOne(source, CONFIG_FILE));
  const weights = await readWeights(source, names, options);
  const input = { stored: weights.stored, weightsFile: weights.weightsFile };
  // The tied-head check compares a stored lm_head with the embedding element by element (match.ts):
  // a streamed pair is fetched first, and the head's copy dropped again once it is checked.
  const tiedPair = config.model_type !== 'vit' && config.tie_word_embeddings ? await fetchTiedPair(weights.stored) : [];
  if (config.model_type === 'gpt2') {
    const m = matchGpt2(config, input);
    await fetchCanonical(m, tiedPair, options, options.keepTensors ?? false);
    return { kind: 'gpt2', config, ...m, weightFiles: weights.files, memory: estimate(m, 0), warnings: weights.warnings };
  }
  if (config.model_type !== 'vit') {
    const m = matchLlama(config, input);
    await fetchCanonical(m, tiedPair, options, options.keepTensors ?? false);
    return { kind: 'llama', config, ...m, weightFiles: weights.files, memory: estimate(m, 0), warnings: weights.warnings };
  }
  const m = matchVit(config, input, numClasses);
  await fetchCanonical(m, [], options, options.keepTensors ?? false);
  const preprocessor = names.has(PREPROCESSOR_FILE) ? parsePreprocessorConfig(await readOne(source, PREPROCESSOR_FILE)) : null;
  if (preprocessor) checkPreprocessorFits(preprocessor, config);
  const headParams = m.head.newHead ? vitClassifier(config, m.head.numClasses).reduce((n, s) => n + numel(s.shape), 0) : 0;
  const warnings = [...weights.warnings, ...(preprocessor?.warnings ?? [])];
  return { kind: 'vit', config, ...m, preprocessor, weightFiles: weights.files, memory: estimate(m, headParams), warnings };
}

/** A stored `lm_head.weight` and the embedding(s) it must equal, fetched (streamed sources only). */
async function fetchTiedPair(stored: Map<string, StoredTensor>): Promise<SafetensorsTensor[]> {
  const head = stored.get('lm_head.weight')?.tensor;
  if (!head || !isStreamed(head)) return [];
  const pair = [...stored].filter(([k]) => k === 'lm_head.weight' || /(^|\.)(wte|embed_tokens)\.weight$/.test(k)).map(([, s]) => s.tensor);
  for (const t of pair) if (isStreamed(t)) await t.fetch();
  return pair;
}

/**
 * Streamed sources. Every family (GPT-2, Llama family, ViT): nothing is read here — the engine reads
 * each canonical tensor once when it uploads it (read → pack or convert → writeBuffer → dropped,
 * src/model/frozen.ts), so JS never holds more than about one tensor of the model; progress is
 * reported from those reads (the first read of each tensor). With `keep` (LoadOptions.keepTensors)
 * every canonical tensor is read here and kept as F32, with progress. What was fetched only for the
 * tied-head check is released either way.
 */
async function fetchCanonical(m: Matched, tiedPair: SafetensorsTensor[], options: LoadOptions, keep: boolean): Promise<void> {
  const canonical = new Set(m.tensors.values());
  for (const t of tiedPair) if ((!keep || !canonical.has(t)) && isStreamed(t)) t.release();
  const streamed = [...canonical].filter(isStreamed);
  if (streamed.length === 0) return;
  const totalBytes = streamed.reduce((n, t) => n + t.byteLength, 0);
  let t0: number | undefined;
  let bytes = 0;
  const seen = new Set<SafetensorsTensor>();
  for (const t of streamed) {
    t.onRead = (read) => {
      t0 ??= performance.now();
      if (seen.has(read)) return; // a later re-read (export, a DoRA merge) is not load progress
      seen.add(read);
      bytes += read.byteLength;
      options.onProgress?.({ bytes, totalBytes, tensor: read.name, elapsedMs: performance.now() - t0 });
    };
  }
  if (keep) for (const t of streamed) await t.fetch();
}

async function readOne(source: ModelDirSource, name: string): Promise<ArrayBuffer | Uint8Array> {
  try {
    return await source.read(name);
  } catch (cause) {
    throw readFailure(name, cause);
  }
}

interface Weights {
  stored: Map<string, StoredTensor>;
  files: string[];
  /** File named when a tensor is missing. */
  weightsFile: string;
  warnings: string[];
}

/** model.safetensors first, then the shard index (transformers' order); pickle-only folders are refused. */
async function readWeights(source: ModelDirSource, names: Set<string>, options: LoadOptions): Promise<Weights> {
  const readOptions = { maxHeaderBytes: options.maxHeaderBytes };
  const stored = new Map<string, StoredTensor>();
  const { open } = source;
  if (open && names.has(WEIGHTS_FILE)) {
    let reader;
    try {
      reader = await open(WEIGHTS_FILE);
    } catch (cause) {
      throw readFailure(WEIGHTS_FILE, cause);
    }
    const file = await readSafetensorsRanged(reader, WEIGHTS_FILE, readOptions);
    for (const [key, tensor] of file.tensors) stored.set(key, { key, file: WEIGHTS_FILE, tensor });
    const warnings = file.warnings.map((w) => `${w.file}: ${w.message}`);
    return { stored: sortedByName(stored), files: [WEIGHTS_FILE], weightsFile: WEIGHTS_FILE, warnings };
  }
  if (open && names.has(SHARD_INDEX_NAME)) {
    const set = await loadShardedSafetensorsRanged(guardedRead(source), guardedOpen({ ...source, open }), readOptions);
    for (const [key, tensor] of set.tensors) stored.set(key, { key, file: set.index.weightMap.get(key) as string, tensor });
    const warnings = set.warnings.map((w) => `${w.file}: ${w.message}`);
    return { stored: sortedByName(stored), files: set.index.shards, weightsFile: SHARD_INDEX_NAME, warnings };
  }
  if (names.has(WEIGHTS_FILE)) {
    const file = readSafetensors(await readOne(source, WEIGHTS_FILE), WEIGHTS_FILE, readOptions);
    for (const [key, tensor] of file.tensors) stored.set(key, { key, file: WEIGHTS_FILE, tensor });
    const warnings = file.warnings.map((w) => `${w.file}: ${w.message}`);
    return { stored: sortedByName(stored), files: [WEIGHTS_FILE], weightsFile: WEIGHTS_FILE, warnings };
  }
  if (names.has(SHARD_INDEX_NAME)) {
    const set = await loadShardedSafetensors(guardedRead(source), readOptions);
    for (const [key, tensor] of set.tensors) stored.set(key, { key, file: set.index.weightMap.get(key) as string, tensor });
    const warnings = set.warnings.map((w) => `${w.file}: ${w.message}`);
    return { stored: sortedByName(stored), files: set.index.shards, weightsFile: SHARD_INDEX_NAME, warnings };
  }
  const pickle = [...names].find((n) => PICKLE.test(n));
  if (pickle !== undefined) throw new ModelDirError('MODEL_FORMAT', pickle, 'pickle checkpoints are refused without being opened');
  throw new ModelDirError('MODEL_WEIGHTS_MISSING', WEIGHTS_FILE, `the folder has neither ${WEIGHTS_FILE} nor ${SHARD_INDEX_NAME}`);
}

/**
 * Name order (code points), so "the first unexpected tensor" is the same whichever way the checkpoint
 * was written or sharded.
 */
function sortedByName(stored: Map<string, StoredTensor>): Map<string, StoredTensor> {
  return new Map([...stored].sort((a, b) => compareUtf8(a[0], b[0])));
}

function estimate(m: Matched, newHeadParameters: number): MemoryEstimate {
  let parameters = newHeadParameters;
  for (const t of m.tensors.values()) parameters += numel(t.shape);
  let passthroughBytes = 0;
  for (const t of m.passthrough.values()) passthroughBytes += isStreamed(t) ? t.byteLength : t.raw.byteLength;
  return { parameters, f32Bytes: 4 * parameters, newHeadParameters, passthroughBytes };
}
