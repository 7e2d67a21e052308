// The lorasc CLI on chat data (issue 12 items 4 and 8), the real bin/lorasc.mjs in headless Chromium, with the
// GPT-2 demo and a ChatML-layout template given on the command line (a GPT-2 has no template of its own):
//   - eval --data chat.jsonl scores only the assistant tokens (reply + end-of-turn), and its loss equals the
//     cross-entropy at those positions of the logits `eval --tokens --logits-out` writes (another code path);
//   - train accepts the chat .jsonl, names the rejected line, and lowers that assistant-only loss;
//   - generate --chat replies through the template and stops at the end-of-turn id.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatTemplate, chatTemplateFromConfig, renderWithSpans, tokenMask, tokenOffsets } from '../../src/io/chat';
import { readSafetensors } from '../../src/io/safetensors';
import { loadTokenizer } from '../../src/io/tokenizer';
import { crossEntropy } from '../../src/train/evaluate';
import { runLorasc } from '../helpers/lorasc';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO = join(ROOT, 'public/demo/gpt2-fortunes');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-chat-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const TEMPLATE = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + eos_token + '\\n' }}{% endfor %}"
  + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const CONV = [{ role: 'user', content: 'Tell me a fortune.' }, { role: 'assistant', content: 'Fortune favours the bold.' }] as const;
const ROWS = 16;
const tplFile = join(base, 'chatml.jinja');
const data = join(base, 'chat.jsonl');
writeFileSync(tplFile, TEMPLATE);
const lines = Array.from({ length: ROWS }, () => JSON.stringify({ messages: CONV }));
lines.splice(3, 0, '{"messages": [}');
writeFileSync(data, lines.join('\n') + '\n');

const lorasc = (args: string[], timeoutMs: number) => runLorasc(base, args, timeoutMs);
const json = async (args: string[]) => {
  const r = await lorasc([...args, '--json'], 400_000);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

describe('lorasc on a chat .jsonl (GPT-2 demo + a supplied ChatML-layout template)', () => {
  const tok = loadTokenizer({ tokenizerJson: readFileSync(join(DEMO, 'tokenizer.json'), 'utf8') });
  const tpl = new ChatTemplate(chatTemplateFromConfig(JSON.stringify({ eos_token: '<|endoftext|>' }), { jinjaFile: TEMPLATE }));
  const r = renderWithSpans(tpl, [...CONV]);
  const enc = tokenOffsets(tok)(r.text);
  const mask = tokenMask(enc, r.spans);
  const scoredPerRow = mask.reduce((n, m) => n + m, 0);

  it('eval --data: assistant tokens only, the same loss as the logits of eval --tokens at those positions', async () => {
    expect(scoredPerRow).toBe(tok.encode('Fortune favours the bold.<|endoftext|>').length);
    const chat = await json(['eval', '--model', DEMO, '--data', data, '--chat-template', tplFile]);
    expect(chat.scoredTokens).toBe(ROWS * scoredPerRow);
    expect(chat.conversations).toBe(ROWS);
    expect(chat.rejected).toEqual([expect.stringMatching(/^line 4: invalid JSON/)]);
    // reference: the full logits of the one (repeated) conversation through the plain-text eval path
    const ids = join(base, 'ids.json');
    writeFileSync(ids, JSON.stringify(enc.ids));
    const logitsFile = join(base, 'logits.safetensors');
    await json(['eval', '--model', DEMO, '--tokens', ids, '--logits-out', logitsFile]);
    const logits = readSafetensors(readFileSync(logitsFile)).tensors.get('logits')!;
    const V = logits.shape[1];
    let sum = 0, n = 0;
    for (let t = 1; t < enc.ids.length; t++) {
      if (!mask[t]) continue;
      sum += crossEntropy(logits.data.subarray((t - 1) * V, t * V), enc.ids[t]);
      n++;
    }
    expect(n).toBe(scoredPerRow);
    expect(Math.abs((chat.loss as number) - sum / n)).toBeLessThan(1e-4 * (sum / n));
  }, 900_000);

  it('train on it names the rejected line and lowers the assistant-only loss; generate --chat replies and stops at the EOT', async () => {
    const out = join(base, 'run');
    const t = await lorasc(['train', '--model', DEMO, '--data', data, '--chat-template', tplFile, '--method', 'lora', '--max-steps', '20', '--lr', '0.01',
      '--seq-len', '48', '--batch', '4', '--no-adapter', '--out', out], 400_000);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toContain('data: chat, 16 examples');
    expect(t.stderr).toMatch(/warning: chat\.jsonl, line 4: invalid JSON/);
    const before = await json(['eval', '--model', DEMO, '--data', data, '--chat-template', tplFile]);
    const after = await json(['eval', '--model', join(out, 'merged'), '--data', data, '--chat-template', tplFile]);
    expect(after.loss as number).toBeLessThan((before.loss as number) - 0.5);
    const g = await json(['generate', '--model', join(out, 'merged'), '--chat', 'Tell me a fortune.', '--chat-template', tplFile, '--temperature', '0']);
    expect(g.stopIds).toEqual([tok.eosTokenId]);
    expect(g.stopReason).toBe('eos');
    expect(g.reply).not.toContain('<|endoftext|>');
    expect((g.reply as string).length).toBeGreaterThan(0);
  }, 1_800_000);
});
