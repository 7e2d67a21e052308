// The setup of the GPU-process crash tests (gpu-crash.test.ts, gpu-crash-run.test.ts): the Vite dev server
// on a free loopback port, headless Chromium, and an empty page of the server's origin (secure: loopback),
// so that only the modules a test imports into it run. The crash itself is Chrome DevTools Protocol's
// `Browser.crashGpuProcess`, what chrome://gpucrash does (that URL is refused when navigated to from
// automation).
import { afterAll, beforeAll } from 'vitest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';

interface GpuCrashPage {
  page: Page;
  /** Crashes the browser's GPU process: every device of the page is lost. */
  crashGpuProcess(): Promise<void>;
  close(): Promise<void>;
}

/** Opens `<dev server>/<name>.html`, an empty page titled `name`. */
async function openGpuCrashPage(name: string): Promise<GpuCrashPage> {
  let server: ViteDevServer | undefined, browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
  };
  try {
    server = await createServer({ server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error' });
    await server.listen();
    const url = `${server.resolvedUrls!.local[0]}${name}.html`;
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage();
    await page.route(url, (r) => r.fulfill({ contentType: 'text/html', body: `<!doctype html><title>${name}</title>` }));
    await page.goto(url);
    const b = browser;
    const crashGpuProcess = async () => {
      await (await b.newBrowserCDPSession()).send('Browser.crashGpuProcess');
    };
    return { page, crashGpuProcess, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The page for the tests of the enclosing `describe`: opened in its beforeAll, closed in its afterAll.
 * Read `page` inside a test (it exists once beforeAll has run).
 */
export function useGpuCrashPage(name: string): Pick<GpuCrashPage, 'page' | 'crashGpuProcess'> {
  let opened: GpuCrashPage | undefined;
  beforeAll(async () => {
    opened = await openGpuCrashPage(name);
  }, 120_000);
  afterAll(async () => {
    await opened?.close();
  });
  const get = (): GpuCrashPage => {
    if (!opened) throw new Error(`the ${name} page is not open (read it inside a test)`);
    return opened;
  };
  return { get page() { return get().page; }, crashGpuProcess: () => get().crashGpuProcess() };
}
