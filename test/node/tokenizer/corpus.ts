// A seeded English corpus for the tokenizer tests, from files every checkout has: the README files of the
// installed packages, plus the Debian license texts where present. No network, same text on every run
// of a given install; the oracle tests compare two tokenizers on the same training output, so a
// different install changes the corpus but not what the tests check.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../helpers/random';

function readmes(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      if (/^readme\.md$/i.test(name)) found.push(join(dir, name));
      else if (depth > 0 && !name.startsWith('.') && !name.includes('.')) visit(join(dir, name), depth - 1);
    }
  };
  visit(root, 2); // node_modules/<pkg>/README.md and node_modules/@scope/<pkg>/README.md
  return found;
}

const LICENSES = '/usr/share/common-licenses';

/** Paragraphs from the corpus files, shuffled with `seed`, up to about `maxChars` characters in all. */
export function englishParagraphs(maxChars: number, seed = 1): string[] {
  const files = readmes(join(process.cwd(), 'node_modules'));
  if (existsSync(LICENSES)) for (const f of readdirSync(LICENSES).sort()) files.push(join(LICENSES, f));
  const paragraphs: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue; // a dangling symlink or a directory
    }
    for (const p of text.split(/\n{2,}/)) if (p.trim().length > 0) paragraphs.push(`${p}\n\n`);
  }
  const rand = mulberry32(seed);
  for (let i = paragraphs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [paragraphs[i], paragraphs[j]] = [paragraphs[j], paragraphs[i]];
  }
  const out: string[] = [];
  let total = 0;
  for (const p of paragraphs) {
    if (total >= maxChars) break;
    out.push(p);
    total += p.length;
  }
  return out;
}
