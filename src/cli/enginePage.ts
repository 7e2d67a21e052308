// One engine page in headless Chromium, for the CLI (src/cli/host.ts) and the study (src/cli/study/run.ts):
// Vite serves the page on 127.0.0.1 (its own dependency cache, no HMR or watcher, so edits on disk and
// other Vite instances never reload it), Chromium opens it, Node's callbacks are exposed to it, and the
// page is ready once it sets its flag. Requests to any other origin are recorded (there must be none).
// The server answers only its own page (guard.ts: Host, Origin, Sec-Fetch-Site) and sends no CORS
// headers: Vite's default lets any localhost origin read its responses.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type Plugin, type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from './chromium';
import { originGuard } from './guard';
import { kernelChoicesBridge } from './kernelChoices';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface EnginePageOptions {
  /** Page path under the repository root, e.g. src/cli/page.html. */
  path: string;
  /** Query string appended to the page URL ('' for none). */
  query?: string;
  /** The window flag the page sets when it is ready. */
  readyFlag: string;
  /** Vite dependency cache folder (relative to ROOT): one per tool, scanned from its own page only. */
  cacheDir: string;
  /** Functions exposed on window by name (progress events). */
  expose?: Record<string, (arg: never) => unknown>;
  plugins?: Plugin[];
  /** What to call the page in errors ("the engine page", "the study page"). */
  what: string;
}

export interface EnginePage {
  page: Page;
  /** URLs the page asked of a host other than the local server. */
  outside: string[];
  close(): Promise<void>;
}

/** The page server alone (also used by the bridge's tests): Vite on 127.0.0.1, a free port, guarded, no CORS. */
export async function startPageServer(o: Pick<EnginePageOptions, 'path' | 'cacheDir' | 'plugins' | 'what'>): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: ROOT,
    configFile: resolve(ROOT, 'vite.config.ts'),
    // A shared node_modules/.vite cache is re-optimised by every other Vite instance (studio, vitest,
    // benches) for its own entries; a page started meanwhile found it stale and timed out loading.
    cacheDir: resolve(ROOT, o.cacheDir),
    optimizeDeps: { entries: [o.path] },
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null, cors: false },
    logLevel: 'silent',
    clearScreen: false,
    plugins: [originGuard(), ...(o.plugins ?? [])],
  });
  try {
    await server.listen();
  } catch (e) {
    await server.close().catch(() => undefined);
    throw e;
  }
  const url = server.resolvedUrls?.local[0];
  if (!url) {
    await server.close().catch(() => undefined);
    throw new Error(`${o.what} could not start its local page server`);
  }
  return { server, url };
}

export async function openEnginePage(o: EnginePageOptions): Promise<EnginePage> {
  let server: ViteDevServer | undefined;
  let url = '';
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
  };
  try {
    ({ server, url } = await startPageServer(o));
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage();
    const outside: string[] = [];
    const own = new URL(url).origin;
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.protocol !== 'data:' && u.origin !== own) outside.push(r.url());
    });
    let pageError: string | undefined;
    page.on('pageerror', (e) => { pageError ??= e.message; });
    if (process.env.LORASC_DEBUG) page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
    for (const [name, fn] of Object.entries(o.expose ?? {})) await page.exposeFunction(name, fn);
    await page.exposeFunction('lorascKernelChoices', kernelChoicesBridge());
    await page.goto(`${url}${o.path}${o.query ?? ''}`, { timeout: 120_000 })
      .catch((e: Error) => { throw new Error(`${o.what} did not load in 120 s (${e.message.split('\n')[0]})`); });
    await page.waitForFunction((flag) => (window as unknown as Record<string, unknown>)[flag] === true, o.readyFlag, { timeout: 180_000 })
      .catch(() => { throw new Error(`${o.what} did not start${pageError ? `: ${pageError}` : ''}`); });
    return { page, outside, close };
  } catch (e) {
    await close();
    throw e;
  }
}
