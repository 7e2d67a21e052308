// Every HTML entry of the repository (found by walking it, so a new one is covered) is served by the dev
// server — the studio in development, and the CLI's engine and study pages, which use the same config —
// with the CSP and security headers of src/pagePolicy.ts; every inline script Vite adds in dev is allowed
// by its hash (no 'unsafe-inline' for scripts), so the headers do not break the pages they protect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type ViteDevServer, createServer } from 'vite';
import { contentSecurityPolicy, inlineScriptHashes, metaPolicy, securityHeaders } from '../../src/pagePolicy';

const ROOT = resolve(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', 'dist', '.git', 'public', 'test']);

function htmlEntries(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || SKIP.has(e.name)) return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? htmlEntries(p) : e.name.endsWith('.html') ? [relative(ROOT, p)] : [];
  });
}

describe('the page policy', () => {
  let server: ViteDevServer;
  let url: string;
  beforeAll(async () => {
    server = await createServer({
      root: ROOT, configFile: join(ROOT, 'vite.config.ts'), cacheDir: join(ROOT, 'node_modules/.vite-policy-test'),
      optimizeDeps: { noDiscovery: true, include: [] },
      server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'error',
    });
    await server.listen();
    url = server.resolvedUrls!.local[0];
  });
  afterAll(async () => { await server?.close(); });

  it('finds the HTML entries', () => {
    expect(htmlEntries(ROOT)).toEqual(expect.arrayContaining(['index.html', 'bench/index.html', 'src/cli/page.html', 'src/cli/study/page.html']));
  });

  it('is sent by the dev server on every HTML entry, with its inline scripts allowed by hash', async () => {
    for (const entry of htmlEntries(ROOT)) {
      const res = await fetch(new URL(entry, url));
      expect(res.status, entry).toBe(200);
      const html = await res.text();
      const hashes = inlineScriptHashes(html);
      for (const [k, v] of Object.entries(securityHeaders('dev', hashes))) expect(res.headers.get(k), `${k} on ${entry}`).toBe(v);
      const csp = res.headers.get('Content-Security-Policy') ?? '';
      for (const h of hashes) expect(csp).toContain(`'${h}'`);
      expect(csp).toMatch(/(^|; )frame-ancestors 'none'(;|$)/);
      expect(csp).toMatch(/(^|; )form-action 'none'(;|$)/);
      expect(csp).toMatch(/(^|; )worker-src 'self'(;|$)/);
      expect(/script-src[^;]*'unsafe-inline'/.test(csp), entry).toBe(false);
      // The HTML carries no policy of its own that could drift from the headers.
      expect(html).not.toMatch(/http-equiv="Content-Security-Policy"/i);
    }
  });

  it('builds: the build policy has no inline allowance, and the meta tag is the header less frame-ancestors', () => {
    const csp = contentSecurityPolicy('build');
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|blob:|data:|\*/);
    expect(metaPolicy()).toBe(csp.replace("; frame-ancestors 'none'", ''));
  });

  it('hashes inline scripts as CSP does (sha256 of the text, base64) and skips external ones', () => {
    // sha256('alert(1)') in hex (sha256sum); the CSP source form is its base64.
    expect(inlineScriptHashes('<script>alert(1)</script><script src="/a.js"></script><script type="module"></script>'))
      .toEqual([`sha256-${Buffer.from('6e11c72f7cf6bc383152dd16ddd5903aba6bb1c99d6b6639a4bb0b838185fa92', 'hex').toString('base64')}`]);
  });
});
