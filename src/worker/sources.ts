// Where the studio's worker gets bytes: the built-in demo (same-origin files under public/demo), what
// the user dropped (File objects sent by the UI thread, read here through File.slice tensor by tensor:
// a weights file is never read whole, issue 13 item 1), or — only when the user asks, through the Hub
// control — a model repo downloaded from the Hugging Face Hub (src/io/hub), streamed into Cache Storage
// and read back from there by byte range like a dropped folder.
import { sourceFromFiles, sourceFromMap, type ModelDirSource } from '../io/hfModel';
import { cacheStorageHubCache, hubOrigins, openHubRepo, type HubProgress } from '../io/hub';
import type { DataSource, DemoModel, HubLoadInfo, ModelSource } from './protocol';

/** The Hub's base URL: the real Hub, unless a test build set VITE_HUB_BASE (the page's CSP follows it). */
const HUB_BASE = hubOrigins(import.meta.env as { VITE_HUB_BASE?: string; VITE_HUB_CONNECT?: string }).base;

export interface SourceHooks {
  signal?: AbortSignal;
  onHubProgress?: (p: HubProgress) => void;
}

const DEMO_MODEL_FILES: Record<DemoModel, string[]> = {
  'gpt2-fortunes': ['config.json', 'model.safetensors', 'tokenizer.json'],
  'vit-mnist': ['config.json', 'model.safetensors', 'preprocessor_config.json'],
  'llama-fortunes': ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'],
};

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`built-in file ${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

export async function modelSource(s: ModelSource, base: string, hooks: SourceHooks = {}): Promise<{ source: ModelDirSource; label: string; hub?: HubLoadInfo; warnings?: string[] }> {
  if (s.kind === 'hub') {
    const warnings: string[] = [];
    // No Cache Storage (not a secure context, or storage blocked): the download still works, uncached.
    const cache = await cacheStorageHubCache(HUB_BASE).catch((e: unknown) => {
      warnings.push(`the browser's cache is not available (${e instanceof Error ? e.message : String(e)}): the model will download again next time`);
      return null;
    });
    const r = await openHubRepo({ repo: s.repo, revision: s.revision, token: s.token, base: HUB_BASE, cache, signal: hooks.signal, onProgress: hooks.onHubProgress });
    const hub: HubLoadInfo = { repo: r.repo, revision: r.revision, commit: r.commit, from: r.from, offline: r.offline, bytes: r.bytes };
    return { source: r.source, label: `${r.repo}@${r.revision}`, hub, warnings: [...warnings, ...r.warnings] };
  }
  if (s.kind === 'files') {
    if (s.files.length === 0) throw new Error('no files were dropped');
    // Bytes already in memory (tests) become Files too, so every folder is read the same way: ranged.
    const files = s.files.map((f) => (f instanceof File ? f : new File([f.bytes], f.name)));
    return { source: sourceFromFiles(files), label: s.label };
  }
  const files = new Map<string, ArrayBuffer>();
  for (const name of DEMO_MODEL_FILES[s.name]) files.set(name, await fetchBytes(`${base}demo/${s.name}/${name}`));
  return { source: sourceFromMap(files), label: `built-in ${s.name}` };
}

export type LoadedData =
  | { kind: 'text'; name: string; bytes: ArrayBuffer }
  | { kind: 'images'; label: string; files: { path: string; bytes: ArrayBuffer }[] };

/** The demo data that goes with the loaded model kind. */
export async function dataSource(s: DataSource, modelKind: 'gpt2' | 'vit' | 'llama', base: string): Promise<LoadedData> {
  if (s.kind === 'text') return { kind: 'text', name: s.name, bytes: s.bytes };
  if (s.kind === 'images') return { kind: 'images', label: s.label, files: s.files };
  // The Llama demo is a chat model: its data is a chat set ({"messages": …} lines) rendered by its template.
  if (modelKind === 'llama') {
    return { kind: 'text', name: 'definitions-chat.jsonl', bytes: await fetchBytes(`${base}demo/definitions-chat.jsonl`) };
  }
  if (modelKind === 'gpt2') {
    return { kind: 'text', name: 'fortunes-finetune.txt', bytes: await fetchBytes(`${base}demo/fortunes-finetune.txt`) };
  }
  const index = JSON.parse(new TextDecoder().decode(await fetchBytes(`${base}demo/mnist-finetune/index.json`))) as { files: string[] };
  const files = [];
  for (const f of index.files) files.push({ path: `mnist-finetune/${f}`, bytes: await fetchBytes(`${base}demo/mnist-finetune/${f}`) });
  return { kind: 'images', label: 'built-in rotated MNIST digits', files };
}
