#!/usr/bin/env node
// `npx lorasc <command>`: runs src/cli/run.ts → main.ts (TypeScript, the app's own modules) through vite-node,
// which resolves the same `?raw` WGSL imports the app build does.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const pkg = require('vite-node/package.json');
const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['vite-node'];
const cli = join(dirname(require.resolve('vite-node/package.json')), bin);
const child = spawn(process.execPath, [cli, '--root', root, join(root, 'src/cli/run.ts'), '--', ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
