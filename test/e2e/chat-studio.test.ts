// End to end, the studio with a chat model (issue 12 item 4): the GPT-2 demo's weights in a folder whose
// tokenizer_config.json carries a chat template (ChatML layout, each turn closed by <|endoftext|>). A chat
// .jsonl previews as rendered conversations with the trained spans (each reply and its end-of-turn token)
// highlighted and each rejected line named; the playground offers a chat mode that keeps a history and shows
// replies without special tokens. No request leaves the page's origin; no console or page error.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { type PageGuard, guardContext } from './pageGuard';

const LONG = 600_000;
const ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATE = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + eos_token + '\\n' }}{% endfor %}"
  + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe('the studio with a chat model', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  let guard: PageGuard;
  const dir = mkdtempSync(join(tmpdir(), 'lorasc-chat-model-'));
  const model = join(dir, 'fortunes-chat');

  beforeAll(async () => {
    rmSync(model, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(model);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copyFileSync(join(ROOT, 'public/demo/gpt2-fortunes', f), join(model, f));
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>', bos_token: '<|endoftext|>', chat_template: TEMPLATE }));
    server = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
    await server.listen();
    const url = server.resolvedUrls!.local[0];
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    guard = await guardContext(context, new URL(url).origin);
    page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('[data-testid=data-preview]', { timeout: LONG });
  }, LONG);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('previews a chat .jsonl: rendered conversations, trained spans highlighted, rejected lines named', { timeout: LONG }, async () => {
    await page.getByTestId('model-input').setInputFiles(model);
    await page.waitForFunction(() => /fortunes-chat/.test(document.querySelector('[data-testid=model-info]')?.textContent ?? ''), null, { timeout: LONG });
    const rows = [
      JSON.stringify({ messages: [{ role: 'user', content: 'Tell me a fortune.' }, { role: 'assistant', content: 'Fortune favours <b>the</b> bold.' }] }),
      '{"messages": [',
      JSON.stringify({ messages: [{ role: 'user', content: 'only a question' }] }),
      JSON.stringify({ conversations: [{ from: 'human', value: 'Hi' }, { from: 'gpt', value: 'Hello ☺' }, { from: 'human', value: 'Bye' }, { from: 'gpt', value: 'Bye!' }] }),
    ].join('\n');
    await page.getByTestId('data-input').setInputFiles({ name: 'chat.jsonl', mimeType: 'application/json', buffer: Buffer.from(rows) });
    await page.waitForSelector('[data-testid=chat-preview]', { timeout: LONG });
    const preview = (await page.getByTestId('data-preview').textContent()) ?? '';
    expect(preview).toContain("chat: 2 conversations rendered with the model's template (tokenizer_config.json)");
    const marked = await page.locator('[data-testid=chat-preview] pre mark').allTextContents();
    expect(marked).toEqual(['Fortune favours <b>the</b> bold.<|endoftext|>', 'Hello ☺<|endoftext|>', 'Bye!<|endoftext|>']);
    const first = await page.locator('[data-testid=chat-preview] pre').first().textContent();
    expect(first).toBe('<|im_start|>user\nTell me a fortune.<|endoftext|>\n<|im_start|>assistant\nFortune favours <b>the</b> bold.<|endoftext|>\n');
    expect(await page.locator('[data-testid=chat-preview] b').count()).toBe(0); // text, never HTML
    const rejected = await page.locator('[data-testid=data-rejected] li').allTextContents();
    expect(rejected).toEqual([expect.stringMatching(/^chat\.jsonl, line 2: invalid JSON/), expect.stringMatching(/^chat\.jsonl, line 3: no assistant turn/)]);
  });

  it('the playground chats through the template: a history, replies without special tokens', { timeout: LONG }, async () => {
    expect(await page.getByTestId('try-chat-mode').isChecked()).toBe(true);
    await page.getByTestId('try-temperature').fill('0');
    await page.getByTestId('try-message').fill('Tell me a fortune.');
    await page.getByTestId('try-send').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=try-chat-base] .turn').length === 2, null, { timeout: LONG });
    await page.getByTestId('try-message').fill('Another one?');
    await page.getByTestId('try-send').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=try-chat-base] .turn').length === 4, null, { timeout: LONG });
    const roles = await page.locator('[data-testid=try-chat-base] .turn').evaluateAll((els) => els.map((e) => e.getAttribute('data-role')));
    expect(roles).toEqual(['user', 'assistant', 'user', 'assistant']);
    const turns = await page.locator('[data-testid=try-chat-base] .turn').allTextContents();
    expect(turns[0]).toBe('You: Tell me a fortune.');
    for (const t of turns) expect(t).not.toMatch(/<\|endoftext\|>|<\|im_start\|>/);
    await guard.workersReady();
    expect(guard.outside).toEqual([]);
    expect(guard.problems).toEqual([]);
  });
});
