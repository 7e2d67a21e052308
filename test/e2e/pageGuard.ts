// What an end-to-end run must never see, recorded for a whole browser context: a request to any origin
// but the page's own (the context-level `request` event also sees dedicated workers' requests, and
// requests the CSP then blocks), a Content-Security-Policy violation (in the page or in a worker), a
// console error, an uncaught page or worker error, a dialog (alert/confirm/prompt). Tests assert both
// lists are empty at the end.
import type { BrowserContext, ConsoleMessage, Page, Worker } from 'playwright-core';

export interface PageGuard {
  /** URLs asked of another origin. */
  outside: string[];
  /** Violations, console errors, page/worker errors and dialogs, one line each. */
  problems: string[];
  /** Resolves once every worker started so far has its listeners. */
  workersReady(): Promise<void>;
}

export function isOwnOrigin(url: string, origin: string): boolean {
  try {
    // A blob: URL's origin is the page that made it (new URL('blob:http://h:1/x').origin === 'http://h:1').
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

const VIOLATION_LISTENER = `(() => {
  const report = (line) => (typeof __guardReport === 'function' ? __guardReport(line) : console.error(line));
  self.addEventListener('securitypolicyviolation', (e) => report('securitypolicyviolation ' + e.violatedDirective + ' blocked ' + e.blockedURI + (e.sample ? ' sample ' + e.sample : '')));
})()`;

export async function guardContext(context: BrowserContext, origin: string): Promise<PageGuard> {
  const outside: string[] = [];
  const problems: string[] = [];
  const pending: Promise<unknown>[] = [];
  context.on('request', (r) => { if (!isOwnOrigin(r.url(), origin)) outside.push(r.url()); });
  await context.exposeBinding('__guardReport', (_src, line: string) => { problems.push(`page: ${line}`); });
  await context.addInitScript(VIOLATION_LISTENER);
  const onConsole = (where: string) => (m: ConsoleMessage) => { if (m.type() === 'error') problems.push(`${where} console error: ${m.text()}`); };
  const onWorker = (w: Worker) => {
    w.on('console', onConsole(`worker ${w.url()}`));
    // Listeners inside the worker: its CSP violations and uncaught errors become console errors above.
    pending.push(w.evaluate(`(() => {
      self.addEventListener('securitypolicyviolation', (e) => console.error('securitypolicyviolation ' + e.violatedDirective + ' blocked ' + e.blockedURI));
      self.addEventListener('error', (e) => console.error('worker error: ' + e.message));
      self.addEventListener('unhandledrejection', (e) => console.error('worker unhandled rejection: ' + String(e.reason)));
    })()`).catch(() => undefined));
  };
  const onPage = (p: Page) => {
    p.on('console', onConsole('page'));
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('dialog', (d) => { problems.push(`dialog ${d.type()}: ${d.message()}`); void d.dismiss(); });
    p.on('worker', onWorker);
  };
  context.pages().forEach(onPage);
  context.on('page', onPage);
  return { outside, problems, workersReady: async () => { await Promise.all(pending); } };
}
