// The CLI's chat flags (src/cli/main.ts): misuse is one line on stderr and exit 2, found before Chromium starts.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';

const DEMO = resolve(import.meta.dirname, '../../../public/demo/gpt2-fortunes');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-chat-args-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(base, name);
  writeFileSync(p, text);
  return p;
};
const data = file('c.jsonl', '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n');

async function oneLine(argv: string[], ...parts: string[]) {
  const err: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.map(String).join(' ')); });
  let code: number;
  try {
    code = await main(argv);
  } finally {
    spy.mockRestore();
  }
  expect(code).toBe(2);
  expect(err).toHaveLength(1);
  for (const p of parts) expect(err[0]).toContain(p);
}

describe('lorasc chat flags', () => {
  it('eval: --data with --text, --logits-out with --data, --chat-template without --data, a missing template file', async () => {
    await oneLine(['eval', '--model', DEMO, '--data', data, '--text', data], 'exactly one of --text FILE, --tokens FILE.json, --data CHAT.jsonl');
    await oneLine(['eval', '--model', DEMO, '--data', data, '--logits-out', join(base, 'l.st')], '--logits-out goes with --text or --tokens');
    await oneLine(['eval', '--model', DEMO, '--text', data, '--chat-template', data], '--chat-template and --seq-len go with --data');
    await oneLine(['eval', '--model', DEMO, '--data', data, '--chat-template', join(base, 'none.jinja')], 'chat template', 'is not a file');
  });

  it('generate: exactly one of --prompt / --chat / --chat-file; a chat file must be a conversation ending with a user turn', async () => {
    await oneLine(['generate', '--model', DEMO], 'exactly one of --prompt TEXT, --chat MESSAGE, --chat-file FILE.json');
    await oneLine(['generate', '--model', DEMO, '--prompt', 'x', '--chat', 'y'], 'exactly one of');
    await oneLine(['generate', '--model', DEMO, '--prompt', 'x', '--chat-template', data], '--chat-template goes with --chat or --chat-file');
    await oneLine(['generate', '--model', DEMO, '--chat', '  '], '--chat is empty');
    await oneLine(['generate', '--model', DEMO, '--chat-file', file('bad.json', '{"messages": [')], 'bad.json: not JSON');
    await oneLine(['generate', '--model', DEMO, '--chat-file', file('ended.json', '[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]')],
      'ends with an assistant turn');
    await oneLine(['generate', '--model', DEMO, '--chat-file', file('role.json', '{"messages": [{"role": "robot", "content": "a"}]}')], 'messages[0]: unknown role "robot"');
  });

  it('train: a --chat-template that is not a file', async () => {
    await oneLine(['train', '--model', DEMO, '--data', data, '--chat-template', base, '--out', join(base, 'o')], 'is not a file');
  });
});
