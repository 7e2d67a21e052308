// The lorasc CLI's file-system errors and output folders (issue 14 item 1): every bad path is one line on
// stderr and a non-zero exit, found before Chromium starts; a --logits-out file is written through a private
// temporary folder, never by making the user's folder the bridge's. Most cases call main() in-process;
// a few run the real bin/lorasc.mjs in a child process, as a user would.
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';
import { runLorasc } from '../../helpers/lorasc';

const ROOT = resolve(import.meta.dirname, '../../..');
const GPT2 = join(ROOT, 'test/fixtures/gpt2_tiny');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-cli-test-')));
const ids = join(base, 'ids.json');
writeFileSync(ids, '[1, 2, 3, 4, 5]');
const notes = join(base, 'notes.md');
writeFileSync(notes, 'Some notes.\n');
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** main()'s exit code and what it printed on stderr. */
async function cli(...argv: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.map(String).join(' ')); });
  try {
    return { code: await main(argv), err };
  } finally {
    spy.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

function expectOneLine(r: { code: number; err: string[] }, code: number, ...parts: string[]) {
  expect(r.code).toBe(code);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).not.toContain('\n');
  for (const p of parts) expect(r.err[0]).toContain(p);
}

describe('output paths are checked before the run (in-process)', () => {
  it('--logits-out in a folder that does not exist', async () => {
    expectOneLine(await cli('eval', '--model', GPT2, '--tokens', ids, '--logits-out', '/proc/nonexistent/l.safetensors'), 2,
      '--logits-out', 'the folder /proc/nonexistent does not exist');
  });

  it('--logits-out under a file (ENOTDIR), onto a folder, onto a device', async () => {
    expectOneLine(await cli('eval', '--model', GPT2, '--tokens', ids, '--logits-out', join(ids, 'l.safetensors')), 2, `${ids} is not a folder`);
    expectOneLine(await cli('eval', '--model', GPT2, '--tokens', ids, '--logits-out', base), 2, 'is a folder; give a file name');
    expectOneLine(await cli('eval', '--model', GPT2, '--tokens', ids, '--logits-out', '/dev/full'), 2, 'is not a regular file');
  });

  it('--out with a NUL byte, under a file (ENOTDIR), where nothing may be created (EACCES/EPERM), or a file', async () => {
    expectOneLine(await cli('export', '--model', GPT2, '--adapter', GPT2, '--out', `${base}/a\0b`), 2, 'NUL byte');
    expectOneLine(await cli('train', '--model', GPT2, '--data', notes, '--out', `${base}/a\0b`), 2, 'NUL byte');
    expectOneLine(await cli('export', '--model', GPT2, '--adapter', GPT2, '--out', join(ids, 'merged')), 2, 'cannot write there (a part of the path is a file, not a folder)');
    // sysfs refuses new folders even to root.
    expectOneLine(await cli('export', '--model', GPT2, '--adapter', GPT2, '--out', '/sys/lorasc-out'), 2, 'cannot write there (permission denied)');
    expectOneLine(await cli('train', '--model', GPT2, '--data', notes, '--out', ids), 2, 'is a file, not a folder');
  });

  it('input paths that do not exist or hold a NUL byte', async () => {
    expectOneLine(await cli('eval', '--model', `${GPT2}\0x`, '--tokens', ids), 2, 'does not exist');
    expectOneLine(await cli('eval', '--model', GPT2, '--text', join(base, 'none.txt')), 2, 'is not a file');
  });

  it('--format: one of text, jsonl, csv, images, matching what --data is', async () => {
    expectOneLine(await cli('train', '--model', GPT2, '--data', notes, '--out', join(base, 'o1'), '--format', 'yaml'), 2, '--format must be text, jsonl, csv or images');
    expectOneLine(await cli('train', '--model', GPT2, '--data', notes, '--out', join(base, 'o1'), '--format', 'images'), 2, '--format images needs a folder');
    mkdirSync(join(base, 'imgs'), { recursive: true });
    expectOneLine(await cli('train', '--model', GPT2, '--data', join(base, 'imgs'), '--out', join(base, 'o1'), '--format', 'csv'), 2, '--format csv needs a file');
  });
});

const lorasc = (args: string[], timeoutMs: number) => runLorasc(base, args, timeoutMs);

/** stderr lines other than the progress bar's. */
// The error lines alone: progress bars ('[###…]', 'loading […]') and the load's summary line are not messages.
const messages = (stderr: string) => stderr.split(/[\r\n]+/).filter((l) => l.trim() !== '' && !l.startsWith('[') && !l.startsWith('loading [') && !l.startsWith('loaded '));

describe('the real lorasc in a child process', () => {
  it('eval --logits-out /proc/nonexistent/l.safetensors: one line and exit 2 (it used to hang after the progress bar)', async () => {
    const r = await lorasc(['eval', '--model', GPT2, '--tokens', ids, '--logits-out', '/proc/nonexistent/l.safetensors'], 60_000);
    expect(r.code).toBe(2);
    expect(messages(r.stderr)).toEqual(['lorasc eval: --logits-out /proc/nonexistent/l.safetensors: the folder /proc/nonexistent does not exist']);
  });

  it('export --out where no folder may be created: one line and exit 2', async () => {
    const r = await lorasc(['export', '--model', GPT2, '--adapter', GPT2, '--out', '/sys/lorasc-out'], 60_000);
    expect(r.code).toBe(2);
    expect(messages(r.stderr)).toEqual(['lorasc export: --out /sys/lorasc-out: cannot write there (permission denied)']);
  });

  it('eval --logits-out: the file lands where asked, through a private folder that is removed; a late EACCES is one line, exit 1', async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('lorasc-out-'));
    const target = join(base, 'logits.safetensors');
    const ok = await lorasc(['eval', '--model', GPT2, '--tokens', ids, '--logits-out', target, '--json'], 180_000);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).logitsFile).toBe(target);
    expect(readdirSync(base)).toContain('logits.safetensors');
    // As root, sysfs passes the up-front check (root may write by mode bits) and refuses the file itself at
    // the end; as another user the check up front refuses it.
    const bad = await lorasc(['eval', '--model', GPT2, '--tokens', ids, '--logits-out', '/sys/l.safetensors'], 180_000);
    if (process.getuid?.() === 0) {
      expect(bad.code).toBe(1);
      expect(messages(bad.stderr)).toEqual(['lorasc eval: error: could not write /sys/l.safetensors: permission denied']);
    } else {
      expect(bad.code).toBe(2);
      expect(messages(bad.stderr)).toEqual(['lorasc eval: --logits-out /sys/l.safetensors: cannot write in /sys (permission denied)']);
    }
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('lorasc-out-'))).toEqual(before);
  });

  it('train --format jsonl reads a file whose name says nothing (rows.log) as rows', async () => {
    const rows = join(base, 'rows.log');
    writeFileSync(rows, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: `Fortune ${i} favours the bold and the curious.` })).join('\n'));
    const r = await lorasc(['train', '--model', join(ROOT, 'public/demo/gpt2-fortunes'), '--data', rows, '--format', 'jsonl', '--method', 'lora',
      '--max-steps', '1', '--seq-len', '16', '--batch', '2', '--no-adapter', '--out', join(base, 'run-rows')], 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('data: jsonl, 12 examples');
  });
});
