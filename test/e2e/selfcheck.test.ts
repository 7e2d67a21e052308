// End to end: the app served by Vite, opened in headless Chromium, acquires WebGPU inside its worker,
// runs the engine self-check and shows it; no request leaves localhost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';

describe('app self-check in Chromium', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
    await server.listen();
    url = server.resolvedUrls!.local[0];
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs the matmul checks in a worker and shows them, with no outside request', async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      const host = new URL(r.url()).hostname;
      if (!['127.0.0.1', 'localhost'].includes(host)) outside.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('[data-testid=gflops], [role=alert]', { timeout: 90_000 });
    expect(await page.locator('[role=alert]').count()).toBe(0);
    expect(await page.getByTestId('adapter').textContent()).toMatch(/\S/);
    const marks = await page.locator('tbody tr td:last-child').allTextContents();
    expect(marks).toEqual(['✓', '✓', '✓']);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
  });
});
