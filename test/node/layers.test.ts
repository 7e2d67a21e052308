// Imports run one way: ui, cli → worker → train → adapters → model → io → kernels → gpu, with ref/ (the
// CPU maths) a leaf anyone may use. Parses every relative import and re-export in src/ (static, dynamic,
// `?raw` shader imports included) and fails on one that points to a higher layer. io sits beside model
// but below it: model may read io's configs and Loaded* types, io never imports model (no cycle).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

/** Higher rank = higher layer; an import may only go to its own rank or below. */
const RANK: Record<string, number> = {
  ref: -1, // pure CPU maths and references: imports nothing but ref
  gpu: 0,
  kernels: 1,
  io: 2,
  model: 3,
  adapters: 4,
  train: 5,
  worker: 6,
  cli: 7, // the CLI host: speaks the worker protocol to the same engine pages
  ui: 7,
  'main.tsx': 8,
  'pagePolicy.ts': 8, // the page's CSP and headers, read by vite.config.ts and the tests; names the Hub origins (io/hub)
};

/**
 * Upward imports that exist today, each with why it is still there. The run-pipeline work (issue 11
 * items 2, 3) removes these; delete an entry when its import goes, the test then keeps it gone.
 */
const ALLOWED: { from: string; to: string; why: string }[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

/** Every relative module specifier of a file: import/export … from '…', import '…', import('…'). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const re of [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\bimport\(\s*'([^']+)'\s*\)/g, /\bfrom\s+"([^"]+)"/g]) {
    for (const m of code.matchAll(re)) specs.push(m[1]);
  }
  return specs.filter((s) => s.startsWith('.'));
}

/** The layer of a path under the repo: src/<dir>/… → <dir>; src/main.tsx → main.tsx; outside src → null. */
function layerOf(abs: string): string | null {
  const rel = relative(SRC, abs);
  if (rel.startsWith('..')) return null;
  return rel.split(/[\\/]/)[0];
}

interface Edge { from: string; to: string; file: string; spec: string }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file)!;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const to = layerOf(resolve(dirname(file), spec.replace(/\?.*$/, '')));
      if (to !== null && to !== from) out.push({ from, to, file: relative(ROOT, file), spec });
    }
  }
  return out;
}

describe('import layers', () => {
  const all = edges();

  it('finds the imports it checks (the parser is not blind)', () => {
    expect(importsOf("import { a } from '../x';\nexport * from './y';\nimport w from '../../shaders/m.wgsl?raw';\nconst z = await import('./z');"))
      .toEqual(['../x', './y', '../../shaders/m.wgsl?raw', './z']);
    expect(importsOf("// import { a } from '../x';\n/* from '../y' */")).toEqual([]);
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((e) => e.from === 'model' && e.to === 'kernels')).toBe(true);
  });

  it('every top-level folder of src/ has a layer', () => {
    const unknown = [...new Set(all.flatMap((e) => [e.from, e.to]))].filter((l) => !(l in RANK));
    expect(unknown).toEqual([]);
  });

  it('no import runs upward (ui → worker/cli → train → adapters → model → io → kernels → gpu; ref a leaf)', () => {
    const upward = all.filter((e) => RANK[e.to] > RANK[e.from] || (e.from === 'ref' && e.to !== 'ref') || (e.from === e.to ? false : RANK[e.to] === RANK[e.from]));
    const unexplained = upward.filter((e) => !ALLOWED.some((a) => a.from === e.file && a.to === e.spec));
    expect(unexplained.map((e) => `${e.file} (${e.from}) imports ${e.spec} (${e.to})`)).toEqual([]);
    const stale = ALLOWED.filter((a) => !upward.some((e) => e.file === a.from && e.spec === a.to));
    expect(stale.map((a) => `${a.from} → ${a.to} is allowed but no longer imported: remove it from ALLOWED`)).toEqual([]);
  });

  it('io and model do not import each other both ways; gpu imports nothing from kernels', () => {
    expect(all.filter((e) => e.from === 'io' && e.to === 'model').map((e) => `${e.file} imports ${e.spec}`)).toEqual([]);
    expect(all.filter((e) => e.from === 'gpu' && e.to !== 'gpu' && e.to !== 'ref').map((e) => `${e.file} imports ${e.spec}`)).toEqual([]);
  });
});
