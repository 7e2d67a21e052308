// Which files of a repo the studio needs: what transformers reads to build the model and its tokenizer,
// nothing else (no README, no ONNX/GGUF/pickle copies, no subfolders). The weights are model.safetensors,
// or model.safetensors.index.json and the shards its weight_map names.
import { HubError } from './errors';

/** A file as the Hub's API lists it (`siblings` of GET /api/models/{repo}/revision/{rev}?blobs=true). */
export interface HubFileInfo {
  name: string;
  /** Bytes, when listed. */
  size?: number;
  /** sha256 (hex) of the content, listed for LFS/Xet files. */
  sha256?: string;
}

export const WEIGHTS = 'model.safetensors';
export const WEIGHTS_INDEX = 'model.safetensors.index.json';

/** Loaded when present; config.json and the weights are required. */
export const COMPANIONS = [
  'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json',
  'preprocessor_config.json', 'special_tokens_map.json',
  // GPT-2 folders saved without tokenizer.json carry the slow tokenizer's files instead.
  'vocab.json', 'merges.txt',
] as const;

/**
 * The files to fetch first (config, weights or their index, tokenizer files), in that order. Shards
 * follow from the index (`shardNames`). Refuses, naming the repo, when config.json or safetensors
 * weights are missing.
 */
export function neededFiles(where: string, listed: readonly HubFileInfo[]): HubFileInfo[] {
  const byName = new Map(listed.filter((f) => !f.name.includes('/')).map((f) => [f.name, f]));
  const config = byName.get('config.json');
  if (!config) throw new HubError('HUB_FILE_MISSING', `${where} has no config.json at its top level: not a transformers model repo (or the model sits in a subfolder)`);
  const weights = byName.get(WEIGHTS) ?? byName.get(WEIGHTS_INDEX);
  if (!weights) {
    const pickle = [...byName.keys()].find((n) => /\.(bin|pt|pth|ckpt)$/.test(n));
    throw new HubError('HUB_FILE_MISSING', pickle
      ? `${where} has no safetensors weights, only ${pickle}: pickle files are never loaded; pick a repo (or revision) with model.safetensors`
      : `${where} has no model.safetensors or model.safetensors.index.json at its top level`);
  }
  const out = [config, weights];
  for (const name of COMPANIONS) { const f = byName.get(name); if (f) out.push(f); }
  return out;
}

/** The shard file names an index's weight_map points to (unique, in first-use order), checked against the listing. */
export function shardNames(where: string, indexText: string, listed: readonly HubFileInfo[]): string[] {
  let index: unknown;
  try { index = JSON.parse(indexText); } catch (e) {
    throw new HubError('HUB_CORRUPT', `${where}: ${WEIGHTS_INDEX} is not valid JSON (${(e as Error).message})`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new HubError('HUB_CORRUPT', `${where}: ${WEIGHTS_INDEX} has no weight_map object`);
  const names = new Set(listed.map((f) => f.name));
  const out: string[] = [];
  for (const shard of Object.values(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.startsWith('.')) {
      throw new HubError('HUB_CORRUPT', `${where}: ${WEIGHTS_INDEX} names ${JSON.stringify(shard)} as a shard: not a file name of the repo's top level`);
    }
    if (out.includes(shard)) continue;
    if (!names.has(shard)) throw new HubError('HUB_FILE_MISSING', `${where}: shard ${shard} named by ${WEIGHTS_INDEX} is not in the repo`);
    out.push(shard);
  }
  if (out.length === 0) throw new HubError('HUB_CORRUPT', `${where}: ${WEIGHTS_INDEX} names no shard`);
  return out;
}
