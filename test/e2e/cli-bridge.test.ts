// Issue 14's attack on the CLI's local bridge, in a real browser: a page served from another loopback origin
// (a second server, another port) tries to write through the bridge with a no-preflight text/plain fetch, a
// fetch carrying a guessed token header, and an auto-submitted form, and to read an input file. Every
// request reaches the bridge and is refused (403), nothing is readable, and no file appears.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/cli/chromium';
import { newToken } from '../../src/cli/guard';
import { bridgeServer } from '../node/cli/http';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-xorigin-')));
const model = join(base, 'model');
const out = join(base, 'out');
let bridge: ViteDevServer;
let bridgeUrl: string;
let attacker: Server;
let browser: Browser;

const attackPage = (target: string, secretPath: string) => `<!doctype html><meta charset="utf-8"><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" target="sink" action="${target}__lorasc/out?path=form.txt"><input name="a" value="pwned"></form>
<script>
(async () => {
  const r = {};
  try { await fetch('${target}__lorasc/out?path=simple.txt', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: 'pwned' }); r.simple = 'sent'; } catch (e) { r.simple = 'error'; }
  try { const x = await fetch('${target}__lorasc/out?path=guessed.txt', { method: 'POST', headers: { 'x-lorasc-token': 'guess' }, body: 'pwned' }); r.guessed = x.status; } catch (e) { r.guessed = 'blocked'; }
  try { const x = await fetch('${target}__lorasc/file?path=${encodeURIComponent(secretPath)}'); r.read = await x.text(); } catch (e) { r.read = 'blocked'; }
  document.getElementById('f').submit();
  window.__results = r;
})();
</script>`;

beforeAll(async () => {
  mkdirSync(model);
  mkdirSync(out);
  writeFileSync(join(model, 'config.json'), 'SECRET-CONFIG');
  ({ server: bridge, url: bridgeUrl } = await bridgeServer(newToken(), [model], out));
  attacker = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(attackPage(bridgeUrl, join(model, 'config.json')));
  });
  await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => attacker?.close(done));
  await bridge?.close();
  rmSync(base, { recursive: true, force: true });
});

it('a page on another loopback origin cannot write or read through the bridge', async () => {
  const page = await browser.newPage();
  // Recorded at the server: the browser hides refused cross-origin responses from the page and from Playwright.
  const statuses: { url: string; status: number }[] = [];
  bridge.httpServer!.on('request', (req, res) => { res.on('finish', () => statuses.push({ url: `${req.method} ${req.url}`, status: res.statusCode })); });
  const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  expect(new URL(attackerUrl).origin).not.toBe(new URL(bridgeUrl).origin);
  await page.goto(attackerUrl);
  await page.waitForFunction(() => (window as unknown as { __results?: unknown }).__results !== undefined);
  const results = await page.evaluate(() => (window as unknown as { __results: Record<string, unknown> }).__results);
  // The form's navigation lands in the iframe; wait until the bridge has answered it.
  await expect.poll(() => statuses.some((s) => s.url.includes('form.txt')), { timeout: 10_000 }).toBe(true);
  await page.close();

  // The requests did reach the bridge (the test would see a write) and were refused.
  for (const name of ['POST /__lorasc/out?path=simple.txt', 'POST /__lorasc/out?path=form.txt', 'GET /__lorasc/file?path=']) {
    const seen = statuses.filter((s) => s.url.includes(name));
    expect(seen.length, `${name} reached the bridge`).toBeGreaterThan(0);
    for (const s of seen) expect(s.status, s.url).toBe(403);
  }
  expect(results.read).not.toContain('SECRET');
  expect(results.guessed).toBe('blocked'); // the preflight for the custom header is not granted
  expect(readdirSync(out)).toEqual([]);
  expect(existsSync(join(out, 'simple.txt')) || existsSync(join(out, 'form.txt'))).toBe(false);
});
