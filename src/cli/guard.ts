// Who may talk to the CLI's local page server (src/cli/enginePage.ts): the engine page it opened, nothing
// else. Any web page open in the user's browser can send requests to 127.0.0.1 — a plain `text/plain`
// POST or a form needs no CORS preflight — so every request must come from the server's own origin
// (Host, Origin, Sec-Fetch-Site), and the file bridge (host.ts) also wants a per-run secret that only
// the page opened by Node knows, sent as a header (a cross-origin page cannot set one without a
// preflight, which this server never grants: Vite's CORS is off).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';

export const TOKEN_HEADER = 'x-lorasc-token';

/** A fresh per-run secret: 256 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Why a request does not come from the server's own page, or null when it does. */
export function foreignRequest(req: IncomingMessage): string | null {
  const own = `127.0.0.1:${req.socket.localPort}`;
  // Host: a DNS-rebinding page reaches 127.0.0.1 under its own name.
  if (req.headers.host !== own) return `Host ${JSON.stringify(req.headers.host ?? '')}`;
  // Origin: sent on every cross-origin request and every POST/DELETE; 'null' from sandboxed frames and files.
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${own}`) return `Origin ${JSON.stringify(origin)}`;
  // Sec-Fetch-Site: Chromium sends it even where it omits Origin (cross-site GETs, images, navigations).
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site ${JSON.stringify(site)}`;
  return null;
}

/** Whether the request carries this run's token (compared in constant time). */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const got = req.headers[TOKEN_HEADER];
  if (typeof got !== 'string') return false;
  const a = Buffer.from(got);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Vite plugin: refuses (403) every request that is not from the server's own origin, before Vite sees it. */
export function originGuard(): Plugin {
  return {
    name: 'lorasc-origin-guard',
    enforce: 'pre',
    configureServer(server) {
      server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        const why = foreignRequest(req);
        if (!why) return next();
        res.statusCode = 403;
        res.setHeader('content-type', 'text/plain');
        res.end(`refused: not from this server's own page (${why})`);
      });
    },
  };
}
