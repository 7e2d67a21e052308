// The CLI page server under test: the real Vite server of src/cli/enginePage.ts (guard, no CORS) with the
// real file bridge of src/cli/host.ts, and a raw HTTP client that can send any Host/Origin header.
import { request } from 'node:http';
import type { ViteDevServer } from 'vite';
import { startPageServer } from '../../../src/cli/enginePage';
import { bridgePlugin, type ServedCounter } from '../../../src/cli/host';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function send(url: string, o: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(o.body);
  });
}

/** A bridge server for `roots` (real input paths) and `outRoot`; no page is scanned (no entry exists). */
export async function bridgeServer(token: string, roots: string[], outRoot: string | undefined, served?: ServedCounter): Promise<{ server: ViteDevServer; url: string }> {
  return startPageServer({
    path: 'test/node/cli/no-such-page.html', cacheDir: 'node_modules/.vite-lorasc-bridge-test', what: 'the bridge test server',
    plugins: [bridgePlugin(token, roots, outRoot, served)],
  });
}
