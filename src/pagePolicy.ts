// The page's security policy, in one place: the Content-Security-Policy and the other response headers
// that `npm start` (vite preview), the dev server, the CLI's engine page and the study page send on every
// response, and the CSP meta tag the built index.html carries (for dist/ served by anything else).
// The user's data never leaves the machine: nothing but the page's own origin is allowed — except that
// `connect-src` also names the Hugging Face Hub's origins (src/io/hub/origins.ts), which the opt-in
// "Download from the Hugging Face Hub" control fetches model files from (GET only, no user data); the page
// cannot be framed, forms go nowhere, and workers come from the page's own files (Vite's
// `new Worker(new URL(..., import.meta.url))` is same-origin; no blob: workers).
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';
import { HUB_ORIGINS, hubOrigins } from './io/hub/origins.ts';

/** 'build': the built app (dist/). 'dev': Vite's dev server (the studio in development, the CLI's pages, the bench). */
export type PolicyMode = 'build' | 'dev';

const BASE: [directive: string, sources: string[]][] = [
  ['default-src', ["'self'"]],
  ['script-src', ["'self'"]],
  ['worker-src', ["'self'"]],
  // React's style={{}} sets CSSOM properties, which CSP does not police; the built app has no inline style.
  ['style-src', ["'self'"]],
  ['img-src', ["'self'"]],
  // 'self' also covers a same-origin ws: (the dev server's HMR socket): nothing more is needed in dev.
  // The Hub's origins are added by contentSecurityPolicy (`hub`), one list for the policy and the downloader.
  ['connect-src', ["'self'"]],
  ['object-src', ["'none'"]],
  ['base-uri', ["'none'"]],
  ['form-action', ["'none'"]],
  ['frame-ancestors', ["'none'"]],
];

/** Directives a browser ignores in a meta tag (and reports as a console error if it meets them there). */
const HEADER_ONLY = new Set(['frame-ancestors']);

/**
 * The policy as a header value. In dev, Vite injects every CSS import as a <style> element (hence
 * 'unsafe-inline' for styles, dev only) and plugin-react prepends an inline refresh preamble, allowed by
 * its hash (`devScriptHashes`), not by 'unsafe-inline'. `hub`: the Hub origins `connect-src` names
 * (the production list unless a test build points the Hub elsewhere: see `pagePolicy`).
 */
export function contentSecurityPolicy(mode: PolicyMode, devScriptHashes: string[] = [], hub: readonly string[] = HUB_ORIGINS): string {
  return BASE.map(([d, s]) => {
    let sources = s;
    if (d === 'connect-src') sources = [...s, ...hub];
    if (mode === 'dev' && d === 'style-src') sources = [...s, "'unsafe-inline'"];
    if (mode === 'dev' && d === 'script-src') sources = [...s, ...devScriptHashes.map((h) => `'${h}'`)];
    return `${d} ${sources.join(' ')}`;
  }).join('; ');
}

/** The built index.html's meta tag: the header policy less what a meta tag cannot carry. */
export function metaPolicy(hub: readonly string[] = HUB_ORIGINS): string {
  return contentSecurityPolicy('build', [], hub).split('; ').filter((d) => !HEADER_ONLY.has(d.split(' ')[0])).join('; ');
}

export function securityHeaders(mode: PolicyMode, devScriptHashes: string[] = [], hub: readonly string[] = HUB_ORIGINS): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(mode, devScriptHashes, hub),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

/** CSP hash sources ('sha256-…', unquoted) of the inline <script> elements of an HTML document. */
export function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (/\bsrc\s*=/i.test(m[1]) || m[2] === '') continue;
    out.push(`sha256-${createHash('sha256').update(m[2], 'utf8').digest('base64')}`);
  }
  return out;
}

/**
 * Vite plugin: the headers on every response of the dev server and of `vite preview`, and the meta tag
 * in built HTML. The dev policy hashes the inline scripts Vite itself prepends to every page (the same
 * for every page), learnt once by transforming an empty page.
 *
 * The Hub origins come from the same build-time setting the app's downloader reads (`VITE_HUB_BASE`,
 * `VITE_HUB_CONNECT`; src/io/hub/origins.ts): unset — every real build — the production list; set by
 * a test to its local Hub server, that server's origins replace the list, so a test build never widens
 * the production policy and the policy always names what the downloader asks.
 */
export function pagePolicy(): Plugin {
  let hub: readonly string[] = HUB_ORIGINS;
  return {
    name: 'lorasc:page-policy',
    configResolved(config) {
      hub = hubOrigins(config.env as { VITE_HUB_BASE?: string; VITE_HUB_CONNECT?: string }).origins;
    },
    configureServer(server) {
      let headers: Promise<Record<string, string>> | undefined;
      server.middlewares.use((_req, res, next) => {
        headers ??= server.transformIndexHtml('/', '<!doctype html><html><head></head><body></body></html>')
          .then((html) => securityHeaders('dev', inlineScriptHashes(html), hub));
        headers.then((h) => {
          for (const [k, v] of Object.entries(h)) res.setHeader(k, v);
          next();
        }, next);
      });
    },
    configurePreviewServer(server) {
      server.middlewares.use((_req, res, next) => {
        for (const [k, v] of Object.entries(securityHeaders('build', [], hub))) res.setHeader(k, v);
        next();
      });
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        if (ctx.server) return; // the dev server sends the header; its preamble comes before any meta tag
        return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: metaPolicy(hub) }, injectTo: 'head-prepend' }];
      },
    },
  };
}
