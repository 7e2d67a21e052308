// Image folders for ViT classification, laid out as HF `imagefolder` / torchvision ImageFolder expect:
// root/<class>/<image>. Input is the list of relative paths a directory picker (webkitRelativePath) or a
// Node readdir walk gives, always starting with the root folder. Classes are the class folders sorted by
// code point, as Python's sorted() orders them, so label ids match HF's. Nothing here reads image bytes;
// headers, pixel caps and SVG handling belong to the decoder (docs/failure-scenarios.md#b4, #h2).
import { DatasetError, type RejectedFile } from './errors';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.gif'] as const;

export interface ImageItem {
  path: string;
  /** Index into `classes`. */
  label: number;
}

export interface ImageFolder {
  kind: 'image';
  root: string;
  /** Class folder names, sorted by code point (Python sorted()); label i is classes[i]. */
  classes: string[];
  /** Usable images, sorted by path. */
  items: ImageItem[];
  rejected: RejectedFile[];
  /** Class folders in which no file was usable; they get no label. */
  emptyClasses: string[];
}

/** Compares by Unicode code point, as Python's str ordering (JS `<` compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** Why a path is not a usable image, or null with its class folder. */
function classify(parts: string[]): { cls: string } | { reason: string } {
  if (parts.length < 3) return { reason: 'file at the top level of the folder, not inside a class folder' };
  if (parts.length > 3) return { reason: `nested ${parts.length - 2} folders deep; images must sit directly in a class folder` };
  const name = parts[2];
  if (name.startsWith('.')) return { reason: 'hidden file' };
  const ext = extensionOf(name);
  if (ext === '.svg') return { reason: 'SVG images are not supported' };
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext)) {
    return { reason: `not an image extension (${ext || 'none'}); expected ${IMAGE_EXTENSIONS.join(' ')}` };
  }
  return { cls: parts[1] };
}

export function listImageFolder(paths: string[]): ImageFolder {
  const norm = paths.map((p) => p.replace(/\\/g, '/').replace(/^(\.\/)+/, ''));
  const root = norm.length > 0 ? norm[0].split('/')[0] : '';
  if (root === '') throw new DatasetError('DATA_IMAGE', '(image folder)', 'no files were given');
  const rejected: RejectedFile[] = [];
  const seen = new Set<string>();
  const byClass = new Map<string, string[]>();
  const allClasses = new Set<string>();
  for (const path of norm) {
    const parts = path.split('/').filter((s) => s !== '');
    if (parts[0] !== root) {
      rejected.push({ file: path, reason: `outside the root folder "${root}"` });
      continue;
    }
    if (seen.has(path)) {
      rejected.push({ file: path, reason: 'listed twice' });
      continue;
    }
    seen.add(path);
    if (parts.length >= 3) allClasses.add(parts[1]);
    const r = classify(parts);
    if ('reason' in r) {
      rejected.push({ file: path, reason: r.reason });
      continue;
    }
    const list = byClass.get(r.cls) ?? [];
    list.push(path);
    byClass.set(r.cls, list);
  }
  const classes = [...byClass.keys()].sort(compareCodePoints);
  const emptyClasses = [...allClasses].filter((c) => !byClass.has(c)).sort(compareCodePoints);
  if (classes.length < 2) {
    const empty = emptyClasses.length > 0 ? `; class folders without usable images: ${emptyClasses.join(', ')}` : '';
    throw new DatasetError('DATA_IMAGE', root, `${classes.length} class folder(s) with images; classification needs at least 2 (root/<class>/<image>)${empty}`);
  }
  const items: ImageItem[] = [];
  classes.forEach((cls, label) => {
    for (const path of byClass.get(cls)!) items.push({ path, label });
  });
  items.sort((a, b) => compareCodePoints(a.path, b.path));
  return { kind: 'image', root, classes, items, rejected, emptyClasses };
}

/** Images per class, indexed by label. */
export function classCounts(folder: ImageFolder): number[] {
  const counts = new Array<number>(folder.classes.length).fill(0);
  for (const it of folder.items) counts[it.label]++;
  return counts;
}
