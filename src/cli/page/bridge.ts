// The page's side of the CLI file bridge (src/cli/host.ts): read the user's files, write outputs.
import type { ModelDirSource } from '../../io/hfModel';
import type { DirRef } from '../jobs';

const join = (root: string, rel: string) => `${root.replace(/\/+$/, '')}/${rel}`;

export async function readFile(path: string): Promise<ArrayBuffer> {
  const res = await fetch(`/__lorasc/file?path=${encodeURIComponent(path)}`);
  if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
  return res.arrayBuffer();
}

export async function writeOut(rel: string, bytes: Uint8Array | string): Promise<void> {
  const body = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const res = await fetch(`/__lorasc/out?path=${encodeURIComponent(rel)}`, { method: 'POST', body: body as BodyInit });
  if (!res.ok) throw new Error(`writing ${rel}: ${await res.text()}`);
}

export async function writeAll(prefix: string, files: ReadonlyMap<string, Uint8Array>): Promise<string[]> {
  const written: string[] = [];
  for (const [name, bytes] of files) {
    const rel = prefix ? `${prefix}/${name}` : name;
    await writeOut(rel, bytes);
    written.push(rel);
  }
  return written;
}

/** A model (or adapter) folder as the loaders see it: its top-level files. */
export function dirSource(dir: DirRef): ModelDirSource {
  const top = dir.files.filter((f) => !f.includes('/'));
  return { names: top, read: (name) => readFile(join(dir.root, name)) };
}

export const pathIn = (dir: DirRef, rel: string) => join(dir.root, rel);
