// Every document the code and docs cite lives in the repository (docs/), and every `docs/<file>.md#<anchor>`
// citation names a heading or `<a id>` of that file. The team's private reference documents are not in the
// repo, so a citation of one of them (by its upper-case file name) is a dangling reference.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOTS = ['src', 'shaders', 'test', 'bench', 'bin', 'docs', 'public', 'README.md'];
const TEXT = /\.(ts|tsx|js|mjs|cjs|wgsl|md|py|sh|html|css|txt|ya?ml)$/;

function textFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return TEXT.test(path) ? [path] : [];
  return readdirSync(path).flatMap((name) => (name === 'node_modules' ? [] : textFiles(join(path, name))));
}

const FILES = ROOTS.flatMap(textFiles);

/** The private documents, spelled so that this file does not cite them itself. */
const PRIVATE = ['METHOD', 'INTEROP', 'RELIABILITY', 'DESIGN', 'STYLE'];
const PRIVATE_CITE = new RegExp(`(?<!docs/)\\b(${PRIVATE.join('|')})\\.md`, 'g');

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, `_`, `-` kept), spaces → `-`. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link renders as its text
    .replace(/<[^>]+>/g, ''); // inline HTML (an <a id> before the text) renders as nothing
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors a Markdown file defines: heading slugs (duplicates get -1, -2, …) and `<a id|name>`. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    if (fence) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = githubSlug(heading[1]);
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

/** `docs/<file>.md` or `docs/<file>.md#<anchor>` anywhere, and in docs/*.md relative `](<file>.md#<anchor>)`. */
function citations(file: string, text: string): { target: string; anchor: string | undefined; line: number }[] {
  const found: { target: string; anchor: string | undefined; line: number }[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/\bdocs\/([\w.-]+\.md)(?:#([\w-]+))?/g)) found.push({ target: m[1], anchor: m[2], line: i + 1 });
    if (file.startsWith('docs/') && file.split('/').length === 2) {
      for (const m of line.matchAll(/\]\(([\w.-]+\.md)?(?:#([\w-]+))?\)/g)) {
        if (m[1] === undefined && m[2] === undefined) continue;
        found.push({ target: m[1] ?? file.slice('docs/'.length), anchor: m[2], line: i + 1 });
      }
    }
  });
  return found;
}

describe('citations', () => {
  it('scans the source tree', () => {
    expect(FILES).toContain('src/model/glossary.ts');
    expect(FILES).toContain('docs/method.md');
    expect(FILES).toContain('README.md');
  });

  it('no file cites a document that is not in the repository', () => {
    const bad: string[] = [];
    for (const file of FILES) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(PRIVATE_CITE)) bad.push(`${file}:${i + 1}: ${m[0]}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('every docs/<file>.md#<anchor> cited names an existing file and anchor', () => {
    const anchors = new Map<string, Set<string> | null>();
    const bad: string[] = [];
    let checked = 0;
    for (const file of FILES) {
      for (const c of citations(file, readFileSync(file, 'utf8'))) {
        const path = `docs/${c.target}`;
        if (!anchors.has(path)) anchors.set(path, existsSync(path) ? anchorsOf(readFileSync(path, 'utf8')) : null);
        const known = anchors.get(path);
        if (known === null || known === undefined) bad.push(`${file}:${c.line}: ${path} does not exist`);
        else if (c.anchor !== undefined && !known.has(c.anchor)) bad.push(`${file}:${c.line}: ${path}#${c.anchor} is not a heading or <a id> there`);
        checked++;
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(100); // the code does cite docs/: a broken scan would check nothing
  });

  it('anchors follow GitHub slug rules', () => {
    expect(anchorsOf('# Hello, World!\n## `adapter_model.safetensors`\n## GPT-2 (`model_type: "gpt2"`)\n## Hello, World')).toEqual(
      new Set(['hello-world', 'adapter_modelsafetensors', 'gpt-2-model_type-gpt2', 'hello-world-1']),
    );
    expect(anchorsOf('```sh\n# not a heading\n```\n<a id="r01"></a>R01')).toEqual(new Set(['r01']));
  });
});
