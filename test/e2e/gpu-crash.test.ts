// A device loss that is not `destroy()`: the GPU process crashes (Chrome DevTools Protocol
// `Browser.crashGpuProcess`, what chrome://gpucrash does; that URL itself is refused when navigated to
// from automation). Every device of the page is lost with reason "unknown", the studio reports the loss,
// and its "Get a new device" (resetDevice) gives a working device from the restarted GPU process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';

describe('GPU process crash', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    server = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
    await server.listen();
    const url = server.resolvedUrls!.local[0];
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage();
    // An empty page of the dev server's origin (secure: loopback), so only the modules below run.
    await page.route(`${url}crash-test.html`, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>crash test</title>' }));
    await page.goto(`${url}crash-test.html`);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loses the device with reason "unknown"; the studio reports it and a reset gives a working device', async () => {
    // Scripts as strings: vitest rewrites `import()` in this file's own functions for Node.
    await page.evaluate(`(async () => {
      const { getDevice } = await import('/src/gpu/device.ts');
      const { Studio } = await import('/src/worker/studio.ts');
      const ctx = await getDevice({ label: 'crash-test' });
      const events = [];
      ctx.events.on((e) => events.push(e));
      const studioEvents = [];
      const studio = new Studio('/', (e) => studioEvents.push(e));
      await studio.resetDevice(); // the studio's own device
      Object.assign(window, { ctx, events, studio, studioEvents });
    })()`);
    const cdp = await browser.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess');
    await page.waitForFunction(() => {
      const w = window as unknown as { events: { type: string }[]; studioEvents: { kind: string }[] };
      return w.events.some((e) => e.type === 'device-lost') && w.studioEvents.some((e) => e.kind === 'device-lost');
    }, undefined, { timeout: 60_000 });
    const seen = await page.evaluate(() => {
      const w = window as unknown as { events: { type: string; reason?: string }[]; studioEvents: { kind: string; message?: string }[]; ctx: { isLost: boolean } };
      return { lost: w.events.filter((e) => e.type === 'device-lost'), studio: w.studioEvents.filter((e) => e.kind === 'device-lost'), isLost: w.ctx.isLost };
    });
    expect(seen.lost).toHaveLength(1);
    expect(seen.lost[0].reason).toBe('unknown');
    expect(seen.isLost).toBe(true);
    expect(seen.studio).toHaveLength(1);
    expect(seen.studio[0].message).toMatch(/\(unknown\)$/);

    // "Get a new device": the restarted GPU process serves a device that computes.
    const after = await page.evaluate(`(async () => {
      await window.studio.resetDevice();
      const { getDevice } = await import('/src/gpu/device.ts');
      const ctx = await getDevice({ label: 'after-crash' });
      const buf = ctx.upload('x', Float32Array.of(1, 2, 3));
      return [...await ctx.readF32(buf, 3)];
    })()`);
    expect(after).toEqual([1, 2, 3]);
  }, 180_000);
});
