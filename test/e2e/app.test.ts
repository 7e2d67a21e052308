// End to end: the app served by Vite, opened in headless Chromium: the engine self-check runs in its
// worker and fills the (collapsed) Device panel, and the Try-it playground generates text with the
// built-in demo GPT-2; no request goes to any origin but the page's own (workers' included), and no CSP
// violation, console, page or worker error happens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { guardContext } from './pageGuard';

describe('the app in Chromium', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let url: string;
  let origin: string;

  beforeAll(async () => {
    server = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
    await server.listen();
    url = server.resolvedUrls!.local[0];
    origin = new URL(url).origin;
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs the matmul checks in a worker and shows them, with no outside request', async () => {
    const context = await browser.newContext();
    const guard = await guardContext(context, origin);
    const page = await context.newPage();
    await page.goto(url);
    // The Device panel is collapsed: its content is in the page, not visible until opened.
    await page.waitForSelector('[data-testid=gflops], [role=alert]', { timeout: 90_000, state: 'attached' });
    expect(await page.locator('[role=alert]').count()).toBe(0);
    expect(await page.getByTestId('adapter').textContent()).toMatch(/\S/);
    const marks = await page.locator('[data-testid=device-panel] tbody tr td:last-child').allTextContents();
    expect(marks).toEqual(['✓', '✓', '✓']);
    await guard.workersReady();
    expect(guard.problems).toEqual([]);
    expect(guard.outside).toEqual([]);
    await context.close();
  });

  it('generates text with the built-in demo GPT-2 in Try it, reproducibly for a seed', async () => {
    const context = await browser.newContext();
    const guard = await guardContext(context, origin);
    const page = await context.newPage();
    await page.goto(url);
    const run = async () => {
      await page.getByTestId('try-prompt').fill('A fool and his money');
      await page.getByTestId('try-generate').click();
      // A new request clears the previous output, so this waits for this request's reply.
      await page.waitForSelector('[data-testid=try-base], section[aria-labelledby=try-heading] [role=alert]', { timeout: 120_000 });
      expect(await page.locator('section[aria-labelledby=try-heading] [role=alert]').count()).toBe(0);
      return page.getByTestId('try-base').textContent();
    };
    const first = await run();
    expect(first).toMatch(/^A fool and his money.+/s); // the prompt, then at least one generated character
    const again = await run();
    expect(again).toBe(first); // same seed, same text
    await guard.workersReady();
    expect(guard.problems).toEqual([]);
    expect(guard.outside).toEqual([]);
    await context.close();
  });
});
