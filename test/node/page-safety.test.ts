// Page safety, statically: every string from a user's files (dataset text, file names, config JSON,
// model output) reaches the DOM through React text nodes, so no source file may use an HTML sink or
// evaluate strings as code; and the page's Content-Security-Policy allows no other origin. The e2e
// tests check the same at run time (test/e2e/studio.test.ts: an XSS payload in the data stays text).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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

  for (const page of ['index.html', 'src/cli/page.html']) {
    it(`${page}: the Content-Security-Policy allows no outside origin`, () => {
      const html = readFileSync(page, 'utf8');
      const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/s.exec(html)?.[1];
      expect(csp, 'a CSP meta tag').toBeDefined();
      const directives = Object.fromEntries((csp as string).split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k, v]));
      expect(directives['default-src']).toEqual(["'self'"]);
      expect(directives['connect-src']).toEqual(["'self'"]);
      expect(directives['script-src']).toEqual(["'self'"]);
      for (const [k, values] of Object.entries(directives)) {
        for (const v of values as string[]) expect(v, `${k} ${v}`).toMatch(/^('self'|'none'|'unsafe-inline'|blob:|data:)$/);
      }
    });
  }
});
