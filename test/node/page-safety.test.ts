// Page safety, statically: every string from a user's files (dataset text, file names, config JSON,
// model output) reaches the DOM through React text nodes, so no source file may use an HTML sink or
// evaluate strings as code; and the page's Content-Security-Policy allows no other origin. The e2e
// tests check the same at run time (test/e2e/studio.test.ts: an XSS payload in the data stays text).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../src/pagePolicy';
import { HUB_ORIGINS } from '../../src/io/hub/origins';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

const SINKS = [/dangerouslySetInnerHTML/, /\.innerHTML\s*=/, /\.outerHTML\s*=/, /insertAdjacentHTML/, /document\.write/, /\beval\(/, /new Function\(/];

describe('page safety', () => {
  it('no source file writes HTML from strings or evaluates strings as code', () => {
    const files = sources('src');
    expect(files.length).toBeGreaterThan(50);
    const hits = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((line, i) =>
      SINKS.filter((re) => re.test(line)).map((re) => `${f}:${i + 1}: ${re.source}`)));
    expect(hits).toEqual([]);
  });

  // The policy is one module (src/pagePolicy.ts), sent as headers on every HTML entry and as the built
  // index.html's meta tag (test/node/pagePolicy.test.ts checks the headers and the tag; e2e: security.test.ts).
  for (const mode of ['build', 'dev'] as const) {
    it(`the ${mode} Content-Security-Policy allows no outside origin but the Hub's, and those only to connect`, () => {
      const csp = contentSecurityPolicy(mode, ['sha256-AAAA']);
      const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k, v]));
      expect(directives['default-src']).toEqual(["'self'"]);
      // The opt-in Hub download (src/io/hub): huggingface.co and its storage CDNs, named one by one.
      expect(directives['connect-src']).toEqual(["'self'", ...HUB_ORIGINS]);
      expect(directives['script-src']?.[0]).toBe("'self'");
      for (const [k, values] of Object.entries(directives)) {
        for (const v of (k === 'connect-src' ? (values as string[]).slice(0, 1) : values) as string[]) expect(v, `${k} ${v}`).toMatch(mode === 'build' ? /^('self'|'none')$/ : /^('self'|'none'|'unsafe-inline'|'sha256-[A-Za-z0-9+/=]+')$/);
      }
    });
  }
});
