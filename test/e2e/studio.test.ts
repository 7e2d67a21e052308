// End to end: the studio in headless Chromium, as a new user meets it. The built-in GPT demo loads by
// itself; a short LoRASC run draws its curves; pause holds it and resume continues; a LoRA vs LoRASC
// comparison queues two runs; the merged export downloads as a zip whose safetensors the strict reader
// and the model loader accept; dataset text with HTML in it stays text; runs survive a reload; and no
// request goes to any origin but the page's own (workers' included), with no CSP violation, console,
// page or worker error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { unzipSync } from 'fflate';
import { readFile } from 'node:fs/promises';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { type PageGuard, guardContext } from './pageGuard';
import { loadModelDir, sourceFromMap } from '../../src/io/hfModel';
import { readSafetensors } from '../../src/io/safetensors';

const LONG = 600_000;

async function shortRunSettings(page: Page): Promise<void> {
  await page.getByTestId('set-maxSteps').fill('6');
  await page.getByTestId('set-iterationSteps').fill('3');
  await page.getByTestId('set-seqLen').fill('16');
  await page.getByTestId('set-batchSize').fill('4');
}

const stateOf = (page: Page, id: string) => page.getByTestId(`state-${id}`).textContent();

async function waitState(page: Page, id: string, re: RegExp): Promise<void> {
  await page.waitForFunction(([tid, src]) => new RegExp(src).test(document.querySelector(`[data-testid="state-${tid}"]`)?.textContent ?? ''), [id, re.source] as const, { timeout: LONG });
}

async function runIds(page: Page): Promise<string[]> {
  return page.locator('[data-testid^="run-run"]').evaluateAll((els) => els.map((e) => (e.getAttribute('data-testid') ?? '').slice(4)));
}

describe('the studio', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let url: string;
  let page: Page;
  let guard: PageGuard;

  beforeAll(async () => {
    server = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
    await server.listen();
    url = server.resolvedUrls!.local[0];
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1200 } });
    guard = await guardContext(context, new URL(url).origin);
    page = await context.newPage();
    await page.goto(url);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens on the demo GPT and its text, ready to train', async () => {
    await page.waitForSelector('[data-testid=data-preview]', { timeout: LONG });
    expect(await page.getByTestId('model-info').textContent()).toMatch(/gpt2-fortunes.*GPT-2.*3 layers/);
    expect(await page.getByTestId('data-preview').textContent()).toMatch(/tokens/);
    expect(await page.getByTestId('train').isEnabled()).toBe(true);
    expect(await page.getByTestId('set-method').inputValue()).toBe('lorasc');
  });

  it('trains LoRASC: curves appear, pause holds, resume finishes, rank grows past r', { timeout: LONG }, async () => {
    await shortRunSettings(page);
    await page.getByTestId('set-r').fill('2');
    await page.getByTestId('train').click();
    await page.waitForFunction(() => document.querySelector('[data-testid^="run-run"]') !== null, null, { timeout: LONG });
    const [id] = await runIds(page);
    // Pause as soon as the run shows its Pause button (a 6-step run can finish before its first curve is
    // drawn and waited for), clicking in the page: the runs row re-renders with each metrics flush, so
    // Playwright's wait for a stable button could time out.
    await page.waitForFunction((tid) => {
      const button = document.querySelector(`[data-testid="${tid}"]`) as HTMLButtonElement | null;
      button?.click();
      return button !== null;
    }, `pause-${id}`, { timeout: LONG });
    await waitState(page, id, /^paused/);
    const held = await stateOf(page, id);
    await page.waitForTimeout(3000);
    expect(await stateOf(page, id)).toBe(held); // no step while paused
    await page.evaluate((tid) => (document.querySelector(`[data-testid="${tid}"]`) as HTMLButtonElement).click(), `resume-${id}`);
    await waitState(page, id, /^done/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=loss-chart] .recharts-line path').length > 0, null, { timeout: LONG });
    const row = await page.getByTestId(`run-${id}`).textContent();
    expect(row).toMatch(/step 6\/6/);
    // 2 iterations of rank-2 experts: the accumulated update has effective rank 4 > r.
    expect(row).toMatch(/4\.0\s*$/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=rank-chart] .recharts-line').length > 0, null, { timeout: LONG });
  });

  it('exports the merged model as a zip the loader accepts, with the parity figure', async () => {
    const [id] = await runIds(page);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: LONG }), page.getByTestId(`export-merged-${id}`).click()]);
    const zip = unzipSync(new Uint8Array(await readFile((await download.path()) as string)));
    const names = Object.keys(zip);
    expect(names.some((n) => n.endsWith('/model.safetensors'))).toBe(true);
    const files = new Map(names.map((n) => [n.split('/').pop() as string, zip[n]]));
    const st = readSafetensors(files.get('model.safetensors') as Uint8Array, 'model.safetensors');
    expect(st.tensors.size).toBeGreaterThan(10);
    const loaded = await loadModelDir(sourceFromMap(files));
    expect(loaded.kind).toBe('gpt2');
    const parity = await page.getByTestId(`parity-${id}`).textContent();
    const value = Number(/= ([0-9.e+-]+)/.exec(parity ?? '')?.[1]);
    expect(value).toBeLessThanOrEqual(1e-4);
  });

  it('compares LoRA with LoRASC on the same data and seed', { timeout: LONG }, async () => {
    const before = (await runIds(page)).length;
    await page.getByTestId('compare').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="run-run"]').length === n + 2, before, { timeout: LONG });
    const ids = (await runIds(page)).slice(before);
    for (const id of ids) await waitState(page, id, /^done/);
    const rows = await Promise.all(ids.map((id) => page.getByTestId(`run-${id}`).textContent()));
    expect(rows[0]).toMatch(/^LoRA r2/);
    expect(rows[1]).toMatch(/^LoRASC r2/);
    expect(rows[0]).toMatch(/2\.0\s*$/); // LoRA: rank ≤ r
    expect(rows[1]).toMatch(/4\.0\s*$/);
  });

  it('shows dataset text with HTML in it as text, running none of it', async () => {
    const payload = 'A <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> line.\n'.repeat(40);
    await page.getByTestId('data-input').setInputFiles({ name: '<b>evil</b>.txt', mimeType: 'text/plain', buffer: Buffer.from(payload) });
    await page.waitForFunction(() => /evil/.test(document.querySelector('[data-testid=data-preview]')?.textContent ?? ''), null, { timeout: LONG });
    await page.locator('[data-testid=data-preview] summary', { hasText: 'Examples' }).click();
    expect(await page.getByTestId('data-preview').textContent()).toContain('<img src=x onerror="window.__xss=1">');
    expect(await page.locator('[data-testid=data-preview] img, [data-testid=data-preview] b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('takes a model folder and an alpaca .jsonl from the user, and names the rejected lines', { timeout: LONG }, async () => {
    await page.getByTestId('model-input').setInputFiles('public/demo/gpt2-fortunes');
    await page.waitForFunction(() => /^gpt2-fortunes: GPT-2/.test(document.querySelector('[data-testid=model-info]')?.textContent ?? ''), null, { timeout: LONG });
    // A folder loads streamed: Load reads the headers; the weights stay on disk until an engine uploads them.
    expect(await page.getByTestId('load-progress-line').textContent()).toMatch(/^headers read: \d+ tensors, 1\.\d MB of weights stay on disk/);
    const rows = [
      JSON.stringify({ instruction: 'Say hello', input: '', output: 'Hello there.' }),
      '{ not json',
      JSON.stringify({ instruction: 'Add', input: '2 and 3', output: '5' }),
      JSON.stringify({ text: 42 }),
    ].join('\n');
    // The alpaca prompt template alone is ~40 tokens: a context of 16 would leave nothing to train.
    await page.getByTestId('set-seqLen').fill('128');
    await page.getByTestId('data-input').setInputFiles({ name: 'tasks.jsonl', mimeType: 'application/json', buffer: Buffer.from(rows) });
    await page.waitForFunction(() => /tasks\.jsonl/.test(document.querySelector('[data-testid=data-preview]')?.textContent ?? ''), null, { timeout: LONG });
    const preview = await page.getByTestId('data-preview').textContent();
    expect(preview).toMatch(/jsonl: 2 examples/);
    expect(preview).toMatch(/2 rejected/);
    expect(preview).toMatch(/line 2/);
    expect(preview).toMatch(/line 4/);
    // The step-timing probe builds an engine: the bar, next to Train too, shows the weights going to the GPU up to every byte.
    await page.waitForFunction(() => /^uploading weights to the GPU for timing a step: (1\.\d) \/ \1 MB · .* · done$/.test(document.querySelector('[data-testid=upload-progress-line]')?.textContent ?? ''), null, { timeout: LONG });
    expect(await page.getByTestId('load-progress-line').textContent()).toMatch(/^uploading weights to the GPU for timing a step: (1\.\d) \/ \1 MB/);
  });

  it('trains the demo ViT on its rotated digits and classifies an image with base and tuned side by side', { timeout: LONG }, async () => {
    await page.getByTestId('demo-vit').click();
    await page.waitForFunction(() => /10 classes, 200 images/.test(document.querySelector('[data-testid=data-preview]')?.textContent ?? ''), null, { timeout: LONG });
    await page.getByTestId('set-maxSteps').fill('4');
    await page.getByTestId('set-iterationSteps').fill('2');
    const before = (await runIds(page)).length;
    await page.getByTestId('train').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid^="run-run"]').length === n + 1, before, { timeout: LONG });
    const id = (await runIds(page))[before];
    await waitState(page, id, /^done/);
    expect(await page.getByTestId(`run-${id}`).textContent()).toMatch(/\d+\.\d %/); // validation accuracy
    await page.getByTestId('try-image').setInputFiles('public/demo/mnist-finetune/3/00.png');
    await page.waitForSelector('[data-testid=try-tuned]', { timeout: LONG });
    expect(await page.getByTestId('try-base').textContent()).toMatch(/^\d \d+\.\d %/);
    expect(await page.getByTestId('try-tuned').textContent()).toMatch(/^\d \d+\.\d %/);
  });

  it('keeps finished runs across a reload', async () => {
    const ids = await runIds(page);
    await page.reload();
    await page.waitForSelector('[data-testid=runs-table]', { timeout: LONG });
    expect(await runIds(page)).toEqual(ids);
    expect(await page.getByTestId('runs-table').textContent()).toContain('earlier visit');
  });

  it("asked nothing of any origin but the page's own and raised no violation or error", async () => {
    await guard.workersReady();
    expect(guard.outside).toEqual([]);
    expect(guard.problems).toEqual([]);
  });
});
