// `lorasc generate --chat` and `lorasc eval --data chat.jsonl` on the Llama demo (public/demo/llama-fortunes,
// ChatML template in tokenizer_config.json), as a user runs them: the greedy reply equals a greedy decode of
// the rendered prompt by the plain CPU reference (src/model/llama/reference.ts), stopping at <|im_end|>; the
// assistant-only eval loss equals the reference's mean cross-entropy over the reply tokens and each reply's
// <|im_end|>. Runs the real bin/lorasc.mjs (Chromium, the GPU engine, KV-cached decoding).
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatTemplate, chatFromRow, chatTemplateFromConfig } from '../../../src/io/chat';
import { loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { loadTokenizer } from '../../../src/io/tokenizer';
import { llamaSpec } from '../../../src/model/families/llama';
import { referenceLlamaLogits } from '../../../src/model/llama/reference';
import { runLorasc } from '../../helpers/lorasc';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIR = join(ROOT, 'public/demo/llama-fortunes');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-llama-chat-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const lorasc = (args: string[], timeoutMs: number) => runLorasc(base, args, timeoutMs);

async function demo() {
  const files = new Map(readdirSync(DIR).map((n) => [n, readFileSync(join(DIR, n))] as const));
  const loaded = await loadModelDir(sourceFromMap(files));
  if (loaded.kind !== 'llama') throw new Error(`the Llama demo loaded as a ${loaded.kind}`);
  const tokenizerConfig = readFileSync(join(DIR, 'tokenizer_config.json'), 'utf8');
  const tok = loadTokenizer({ tokenizerJson: readFileSync(join(DIR, 'tokenizer.json'), 'utf8'), tokenizerConfig });
  const template = new ChatTemplate(chatTemplateFromConfig(tokenizerConfig));
  const imEnd = tok.encode('<|im_end|>');
  expect(imEnd).toHaveLength(1); // a special token, matched before the model
  return { loaded, tok, template, imEnd: imEnd[0], spec: llamaSpec(loaded), V: loaded.config.vocab_size };
}

const argmax = (row: ArrayLike<number>) => { let b = 0; for (let i = 1; i < row.length; i++) if (row[i] > row[b]) b = i; return b; };

describe('lorasc chat on the Llama demo (ChatML template from tokenizer_config.json)', () => {
  it('generate --chat: the greedy reply is the CPU reference\'s greedy decode of the rendered prompt, stopped at <|im_end|>', async () => {
    const msg = 'Define "Love".';
    const r = await lorasc(['generate', '--model', DIR, '--chat', msg, '--max-new-tokens', '24', '--temperature', '0', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const d = await demo();
    const ids = d.tok.encode(d.template.render([{ role: 'user', content: msg }], true));
    expect(got.promptTokens).toBe(ids.length);
    const reply: number[] = [];
    let stop = 'max_tokens';
    for (let i = 0; i < 24; i++) {
      const seq = [...ids, ...reply];
      const logits = referenceLlamaLogits(d.spec, d.loaded.tensors, d.V, seq, 1, seq.length);
      const next = argmax(logits.subarray((seq.length - 1) * d.V, seq.length * d.V));
      if (next === d.imEnd) { stop = 'eos'; break; }
      reply.push(next);
    }
    expect(got.stopReason).toBe(stop);
    expect(got.reply).toBe(d.tok.decode(reply, { skipSpecialTokens: true }));
    expect(got.reply.length).toBeGreaterThan(0);
  }, 300_000);

  it('eval --data: the assistant-only loss is the reference cross-entropy over the replies and their <|im_end|>', async () => {
    const rows = readFileSync(join(ROOT, 'public/demo/definitions-chat.jsonl'), 'utf8').split('\n').slice(0, 4);
    const data = join(base, 'chat4.jsonl');
    writeFileSync(data, rows.join('\n') + '\n');
    // --batch 3 over 4 conversations: two batches with different reply-token counts, combined token-weighted.
    const r = await lorasc(['eval', '--model', DIR, '--data', data, '--batch', '3', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const d = await demo();
    let sum = 0, count = 0;
    for (const line of rows) {
      const messages = chatFromRow(JSON.parse(line));
      if (typeof messages === 'string') throw new Error(messages);
      // The scored tokens of one exchange: everything after the generation prompt, i.e. the reply and its <|im_end|>.
      const prompt = d.tok.encode(d.template.render(messages.slice(0, -1), true));
      const full = d.tok.encode(d.template.render(messages));
      expect(full.slice(0, prompt.length)).toEqual(prompt);
      const endAt = full.indexOf(d.imEnd, prompt.length);
      const logits = referenceLlamaLogits(d.spec, d.loaded.tensors, d.V, full, 1, full.length);
      for (let j = prompt.length; j <= endAt; j++) {
        const row = logits.subarray((j - 1) * d.V, j * d.V);
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - max);
        sum += max + Math.log(z) - row[full[j]];
        count++;
      }
    }
    expect(got.scoredTokens).toBe(count);
    expect(Math.abs(got.loss - sum / count) / (sum / count)).toBeLessThan(1e-4);
  }, 300_000);
});
