// A local stand-in for the Hugging Face Hub, with the Hub's URL layout and answers, on two loopback
// origins: the "Hub" (API listing and resolve URLs) and a "CDN" that resolve redirects LFS files to,
// as huggingface.co redirects to its storage CDN with a signed URL. It serves folders of real files
// and can misbehave on demand: drop a connection mid-file, ignore Range, answer 401/403 for gated and
// private repos. Shared by the node tests (test/node/hub) and the e2e test (test/e2e/hub.test.ts).
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FixtureRepo {
  /** Top-level (and, for the "only what is needed" check, nested) files by path. */
  files: Map<string, Uint8Array>;
  /** Branches and tags → commit sha; "main" is always there. */
  refs?: Record<string, string>;
  /** Gated: tokens that were granted access (others get 403, none 401). */
  gatedTokens?: string[];
  /** Private: only these tokens see it; others get the same 401 as a missing repo. */
  privateTokens?: string[];
  /** Listed in the API but answered 404 by resolve (a listing that raced a push). */
  vanished?: string[];
  /** Files whose listed sha256 is wrong (corruption on the way). */
  badSha?: string[];
}

export interface HubServerOptions {
  repos: Record<string, FixtureRepo>;
  /** Files served from the CDN origin (LFS/Xet): default *.safetensors. */
  isLfs?: (name: string) => boolean;
}

export interface LoggedRequest {
  origin: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | null;
  authorization: string | null;
}

export interface HubServer {
  base: string;
  cdn: string;
  log: LoggedRequest[];
  /** Drop the connection after `after` bytes of the next `times` answers for this file (from the CDN or the Hub). */
  dropNext(file: string, after: number, times?: number): void;
  /** Answer every Range request with the whole file (200), as a server without range support. */
  ignoreRange: boolean;
  /** Send no X-Error-Code header (as a browser sees the Hub when CORS does not expose it): the body must do. */
  hideErrorCode: boolean;
  /** The API answers 503 (the Hub failing while reachable). */
  apiDown: boolean;
  /** Send file bodies in chunks of this many bytes with a pause between them (a slow link), or null. */
  slow: { chunk: number; delayMs: number } | null;
  close(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, ETag, X-Error-Code, X-Repo-Commit, Accept-Ranges',
};

export function commitOf(repo: string, ref: string): string {
  return createHash('sha1').update(`${repo}\0${ref}`).digest('hex');
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function listen(server: Server): Promise<string> {
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

export async function startHubServer(o: HubServerOptions): Promise<HubServer> {
  const isLfs = o.isLfs ?? ((n: string) => n.endsWith('.safetensors'));
  const log: LoggedRequest[] = [];
  const drops = new Map<string, { after: number; times: number }>();
  const sockets = new Set<Socket>();
  const state: { ignoreRange: boolean; slow: HubServer['slow']; apiDown: boolean; hideErrorCode: boolean } = { ignoreRange: false, slow: null, apiDown: false, hideErrorCode: false };
  // The CDN serves blobs by sha256 under a "signed" path; the signature is checked, as a CDN would.
  const blobs = new Map<string, { name: string; bytes: Uint8Array }>();

  const commits = new Map<string, Map<string, string>>(); // repo → (ref or commit → commit)
  for (const [repo, r] of Object.entries(o.repos)) {
    const refs = new Map<string, string>();
    for (const ref of ['main', ...Object.keys(r.refs ?? {})]) {
      const c = r.refs?.[ref] ?? commitOf(repo, ref);
      refs.set(ref, c);
      refs.set(c, c);
    }
    commits.set(repo, refs);
    for (const [name, bytes] of r.files) if (isLfs(name)) blobs.set(sha256(bytes), { name, bytes });
  }

  const fail = (res: ServerResponse, status: number, code: string, error: string) => {
    res.writeHead(status, { ...CORS, 'Content-Type': 'application/json', ...(state.hideErrorCode ? {} : { 'X-Error-Code': code }) });
    res.end(JSON.stringify({ error }));
  };

  /** 200 or 206 with the file's bytes, honouring Range unless told not to, dropping on demand. */
  const sendBytes = (req: IncomingMessage, res: ServerResponse, name: string, bytes: Uint8Array, etag: string) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { ...CORS, 'Content-Type': 'application/octet-stream', ETag: `"${etag}"`, 'Accept-Ranges': 'bytes' };
    if (m && !state.ignoreRange) {
      start = Number(m[1]);
      if (start >= bytes.byteLength) { res.writeHead(416, { ...CORS, 'Content-Range': `bytes */${bytes.byteLength}` }); res.end(); return; }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${bytes.byteLength - 1}/${bytes.byteLength}`;
    }
    const body = bytes.subarray(start);
    headers['Content-Length'] = String(body.byteLength);
    res.writeHead(status, headers);
    const drop = drops.get(name);
    if (drop && drop.times > 0) {
      drop.times--;
      const cut = Math.max(0, Math.min(body.byteLength - 1, drop.after - start));
      res.write(body.subarray(0, cut), () => req.socket.destroy());
      return;
    }
    const slow = state.slow;
    if (!slow) { res.end(body); return; }
    let at = 0;
    const next = () => {
      if (res.destroyed) return;
      if (at >= body.byteLength) { res.end(); return; }
      res.write(body.subarray(at, at + slow.chunk));
      at += slow.chunk;
      setTimeout(next, slow.delayMs);
    };
    next();
  };

  const hub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ origin: 'hub', method: req.method ?? '', path: url.pathname + url.search, range: req.headers.range ?? null, authorization: req.headers.authorization ?? null });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Allow-Headers': 'Authorization, Range', 'Access-Control-Allow-Methods': 'GET, HEAD' });
      res.end();
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoName = api?.[1] ?? resolve?.[1];
    const r = repoName ? o.repos[repoName] : undefined;
    if (!repoName || (!api && !resolve)) { res.writeHead(404, CORS); res.end('Not Found'); return; }
    if (!r || (r.privateTokens && !(token && r.privateTokens.includes(token)))) {
      fail(res, 401, 'RepoNotFound', 'Repository not found'); return;
    }
    const rev = decodeURIComponent((api ?? resolve)![2]);
    const commit = commits.get(repoName)?.get(rev);
    if (!commit) { fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`); return; }
    if (api && state.apiDown) { fail(res, 503, '', 'Service Unavailable'); return; }
    if (api) {
      res.writeHead(200, { ...CORS, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({
        id: repoName, sha: commit, private: !!r.privateTokens, gated: r.gatedTokens ? 'manual' : false,
        siblings: [...r.files].map(([name, bytes]) => ({
          rfilename: name, size: bytes.byteLength,
          ...(isLfs(name) ? { lfs: { sha256: r.badSha?.includes(name) ? '0'.repeat(64) : sha256(bytes), size: bytes.byteLength, pointerSize: 134 } } : {}),
        })),
      }));
      return;
    }
    if (r.gatedTokens && !(token && r.gatedTokens.includes(token))) {
      if (token) fail(res, 403, 'GatedRepo', `Access to model ${repoName} is restricted and you are not in the authorized list. Visit https://huggingface.co/${repoName} to ask for access.`);
      else fail(res, 401, 'GatedRepo', `Access to model ${repoName} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      return;
    }
    const name = decodeURIComponent(resolve![3]);
    const bytes = r.files.get(name);
    if (!bytes || r.vanished?.includes(name)) { fail(res, 404, 'EntryNotFound', `${name} does not exist on "${rev}"`); return; }
    if (isLfs(name)) {
      const h = sha256(bytes);
      res.writeHead(302, { ...CORS, Location: `${cdnBase}/blobs/${h}?X-Amz-Signature=${sha256(new TextEncoder().encode(`sig${h}`)).slice(0, 16)}`, 'X-Repo-Commit': commit, 'X-Linked-Size': String(bytes.byteLength), 'X-Linked-Etag': `"${h}"` });
      res.end();
      return;
    }
    sendBytes(req, res, name, bytes, createHash('sha1').update(bytes).digest('hex'));
  });

  const cdn = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ origin: 'cdn', method: req.method ?? '', path: url.pathname, range: req.headers.range ?? null, authorization: req.headers.authorization ?? null });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Allow-Methods': 'GET, HEAD' });
      res.end();
      return;
    }
    const h = /^\/blobs\/([0-9a-f]{64})$/.exec(url.pathname)?.[1];
    const blob = h ? blobs.get(h) : undefined;
    if (!blob || url.searchParams.get('X-Amz-Signature') !== sha256(new TextEncoder().encode(`sig${h}`)).slice(0, 16)) {
      res.writeHead(403, { ...CORS, 'Content-Type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    sendBytes(req, res, blob.name, blob.bytes, h as string);
  });

  for (const s of [hub, cdn]) s.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)); });
  const base = await listen(hub);
  const cdnBase = await listen(cdn);
  return {
    base, cdn: cdnBase, log,
    dropNext(file, after, times = 1) { drops.set(file, { after, times }); },
    get ignoreRange() { return state.ignoreRange; },
    set ignoreRange(v: boolean) { state.ignoreRange = v; },
    get hideErrorCode() { return state.hideErrorCode; },
    set hideErrorCode(v: boolean) { state.hideErrorCode = v; },
    get apiDown() { return state.apiDown; },
    set apiDown(v: boolean) { state.apiDown = v; },
    get slow() { return state.slow; },
    set slow(v) { state.slow = v; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([hub, cdn].map((s) => new Promise<void>((ok) => s.close(() => ok()))));
    },
  };
}
