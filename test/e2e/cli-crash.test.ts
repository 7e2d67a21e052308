// Issue 13 item 7: when the engine page dies (as Chromium's renderer does when a 124M-parameter export runs
// it out of memory), the CLI reports one line naming what happened, when, and the likely cause, exits
// non-zero, and the checkpoints already written stay loadable. The crash is forced through the DevTools
// protocol (Page.crash) as soon as the job reports that the export started.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, expect, it } from 'vitest';
import { CliJobError, runJob } from '../../src/cli/host';
import { jobFor } from '../../src/cli/main';
import type { CheckpointStore } from '../../src/io/store';
import { loadLatestCheckpoint } from '../../src/train/checkpoint';

const ROOT = resolve(import.meta.dirname, '../..');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-crash-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A folder on disk as a checkpoint store (read-only use here). */
function fsStore(root: string): CheckpointStore {
  return {
    write: async (name, bytes) => { mkdirSync(dirname(join(root, name)), { recursive: true }); writeFileSync(join(root, name), bytes); },
    read: async (name) => { try { return new Uint8Array(readFileSync(join(root, name))); } catch { return null; } },
    list: async () => (readdirSync(root, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
      .filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)),
    remove: async (name) => rmSync(join(root, name), { recursive: true, force: true }),
  };
}

it('a renderer crash during the export is one line, CLI_PAGE_CRASHED, and the checkpoints stay intact', async () => {
  const data = join(base, 'rows.txt');
  writeFileSync(data, Array.from({ length: 16 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n'));
  const out = join(base, 'run');
  const { job, inputs, outDir } = jobFor(['train', '--model', join(ROOT, 'public/demo/gpt2-fortunes'), '--data', data, '--method', 'lora',
    '--max-steps', '2', '--checkpoint-every', '1', '--seq-len', '16', '--batch', '2', '--out', out]);
  const statuses: string[] = [];
  let crash: (() => void) | undefined;
  const err = await runJob(job, {
    inputs, outDir,
    onPage: (page) => {
      crash = () => { void page.context().newCDPSession(page).then((cdp) => cdp.send('Page.crash')).catch(() => undefined); };
    },
    onEvent: (e) => {
      if (e.type !== 'status') return;
      statuses.push(e.message);
      if (e.message.startsWith('exporting')) crash?.();
    },
  }).then(() => null, (e: unknown) => e);
  expect(statuses.some((s) => s.startsWith('exporting'))).toBe(true);
  expect(err).toBeInstanceOf(CliJobError);
  const e = err as CliJobError;
  expect(e.serialized.code).toBe('CLI_PAGE_CRASHED');
  expect(e.message).not.toContain('\n');
  expect(e.message).toContain('crashed during "exporting');
  expect(e.message).toContain('likely cause is memory');
  // No merged model was half-written, and the last checkpoint (step 2) loads.
  expect(readdirSync(out)).not.toContain('merged');
  const found = await loadLatestCheckpoint(fsStore(join(out, 'checkpoints')));
  expect(found?.state.step).toBe(2);
}, 300_000);
