// End to end: the built-in Llama demo in the studio (headless Chromium, SwiftShader). It is offered beside
// the GPT-2 and ViT demos; loading it brings its chat set; the target checkboxes are the model's own linear
// modules (q_proj … down_proj) with PEFT's defaults q_proj and v_proj ticked; a short chat LoRA run
// trains on the assistant replies; and the playground's greedy replies to a held-out request change from
// the base model's to the fine-tuned one's. No request leaves the page's origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { type PageGuard, guardContext } from './pageGuard';

const LONG = 600_000;
const LLAMA_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

async function runIds(page: Page): Promise<string[]> {
  return page.locator('[data-testid^="run-run"]').evaluateAll((els) => els.map((e) => (e.getAttribute('data-testid') ?? '').slice(4)));
}

async function waitState(page: Page, id: string, re: RegExp): Promise<void> {
  await page.waitForFunction(([tid, src]) => new RegExp(src).test(document.querySelector(`[data-testid="state-${tid}"]`)?.textContent ?? ''), [id, re.source] as const, { timeout: LONG });
}

/** The target checkboxes: module name (as the page shows it) → ticked. */
async function targets(page: Page): Promise<Map<string, boolean>> {
  const rows = await page.locator('[data-testid^="target-"]').evaluateAll((els) =>
    els.map((e) => [(e.getAttribute('data-testid') ?? '').slice('target-'.length), (e as HTMLInputElement).checked] as const));
  return new Map(rows);
}

describe('the Llama demo in the studio', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  let guard: PageGuard;

  beforeAll(async () => {
    server = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
    await server.listen();
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1400 } });
    guard = await guardContext(context, new URL(server.resolvedUrls!.local[0]).origin);
    page = await context.newPage();
    await page.goto(server.resolvedUrls!.local[0]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is offered beside the GPT-2 and ViT demos and loads with its chat set', { timeout: LONG }, async () => {
    await page.waitForSelector('[data-testid=data-preview]', { timeout: LONG }); // the GPT-2 demo opens first
    expect(await page.getByTestId('demo-gpt2').isVisible()).toBe(true);
    expect(await page.getByTestId('demo-vit').isVisible()).toBe(true);
    await page.getByTestId('demo-llama').click();
    await page.waitForFunction(() => /definitions-chat\.jsonl/.test(document.querySelector('[data-testid=data-preview]')?.textContent ?? ''), null, { timeout: LONG });
    expect(await page.getByTestId('model-info').textContent()).toMatch(/llama-fortunes.*Llama.*3 layers/);
    expect(await page.getByTestId('data-preview').textContent()).not.toMatch(/rejected/);
  });

  it("shows the model's linear modules as targets, PEFT's q_proj and v_proj ticked", async () => {
    const t = await targets(page);
    const name = (m: string) => [...t.keys()].find((k) => k === m || k.endsWith(`.${m}`));
    for (const m of LLAMA_MODULES) expect(name(m), m).toBeDefined();
    expect(t.size).toBe(LLAMA_MODULES.length); // no lm_head, no GPT-2 names
    const ticked = LLAMA_MODULES.filter((m) => t.get(name(m) as string));
    expect(ticked).toEqual(['q_proj', 'v_proj']);
    // A tick is a target: ticking o_proj adds it, unticking takes it away again.
    const o = page.getByTestId(`target-${name('o_proj')}`);
    await o.check();
    expect((await targets(page)).get(name('o_proj') as string)).toBe(true);
    await o.uncheck();
  });

  it('a short chat LoRA run changes the greedy reply to a definition request', { timeout: 2 * LONG }, async () => {
    await page.getByTestId('set-method').selectOption('lora');
    // 16 steps of 8 exchanges at the demo's lr: enough to move the greedy reply, short on SwiftShader.
    await page.getByTestId('set-maxSteps').fill('16');
    await page.getByTestId('set-evalEvery').fill('8');
    await page.getByTestId('set-lr').fill('0.005');
    const before = (await runIds(page)).length;
    await page.getByTestId('train').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="run-run"]').length === n + 1, before, { timeout: LONG });
    const id = (await runIds(page))[before];
    const t0 = Date.now();
    const progress = setInterval(() => {
      void page.getByTestId(`run-${id}`).textContent().then((t) => console.log(`llama demo run after ${Math.round((Date.now() - t0) / 1000)} s: ${t}`), () => undefined);
    }, 30_000);
    try { await waitState(page, id, /^(done|error|stopped|interrupted)/); } finally { clearInterval(progress); }
    expect(await page.getByTestId(`state-${id}`).textContent()).toMatch(/^done/);
    console.log(`llama demo run: ${await page.getByTestId(`run-${id}`).textContent()} (${Math.round((Date.now() - t0) / 1000)} s)`);

    // The playground chats through the model's template (chat mode is on for a model with one); greedy.
    expect(await page.getByTestId('try-chat-mode').isChecked()).toBe(true);
    await page.getByTestId('try-temperature').fill('0');
    await page.getByLabel('New tokens').fill('24'); // KV-cached decoding on SwiftShader: keep it short
    await page.getByTestId('try-message').fill('Define "Love".');
    await page.getByTestId('try-send').click();
    const alert = 'section[aria-labelledby=try-heading] [role=alert]';
    await page.waitForSelector(`[data-testid=try-chat-tuned] [data-role=assistant], ${alert}`, { timeout: LONG });
    expect(await page.locator(alert).count(), (await page.locator(alert).allTextContents()).join('; ')).toBe(0);
    const reply = async (side: string) => (await page.locator(`[data-testid=try-chat-${side}] [data-role=assistant]`).first().textContent()) ?? '';
    const base = await reply('base');
    const tuned = await reply('tuned');
    expect(base.length).toBeGreaterThan(0);
    expect(tuned.length).toBeGreaterThan(0);
    console.log(`greedy reply to 'Define "Love".': base ${JSON.stringify(base)}, fine-tuned ${JSON.stringify(tuned)}`);
    expect(tuned).not.toBe(base);
    // Replies end at <|im_end|> and come without special tokens.
    for (const s of [base, tuned]) expect(s).not.toMatch(/<\|im_(start|end)\|>|<\|endoftext\|>/);
  });

  it("asked nothing of any origin but the page's own and raised no violation or error", async () => {
    await guard.workersReady();
    expect(guard.outside).toEqual([]);
    expect(guard.problems).toEqual([]);
  });
});
