// The test config with mutants: the project's own config plus one plugin that serves a mutated copy of
// some shaders in place of `shaders/<name>.wgsl?raw`. The tracked shader files are never written, so an
// interrupted mutation run cannot leave a broken kernel behind.
//
// LORASC_MUTANTS names a JSON file: { "<absolute path of shaders/x.wgsl>": "<absolute path of the copy>" }.
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';
import { mergeConfig } from 'vitest/config';
import base from '../../vite.config';

function mutants(): Plugin {
  const file = process.env.LORASC_MUTANTS;
  const map: Record<string, string> = file ? JSON.parse(readFileSync(file, 'utf8')) : {};
  return {
    name: 'lorasc-mutants',
    enforce: 'pre',
    load(id) {
      const [path, query] = id.split('?');
      const copy = map[path];
      if (!copy || query !== 'raw') return null;
      return `export default ${JSON.stringify(readFileSync(copy, 'utf8'))};`;
    },
  };
}

export default mergeConfig(base, { plugins: [mutants()] });
