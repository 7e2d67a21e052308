// Where the studio's worker gets bytes: the built-in demo (same-origin files under public/demo — never
// another origin) or what the user dropped (ArrayBuffers sent by the UI thread).
import { sourceFromMap, type ModelDirSource } from '../io/hfModel';
import type { DataSource, DemoModel, ModelSource } from './protocol';

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

export async function modelSource(s: ModelSource, base: string): Promise<{ source: ModelDirSource; label: string }> {
  if (s.kind === 'files') {
    if (s.files.length === 0) throw new Error('no files were dropped');
    return { source: sourceFromMap(new Map(s.files.map((f) => [f.name, f.bytes]))), label: s.label };
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
