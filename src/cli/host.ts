// The CLI's engine host. Dawn's Node bindings crash on SwiftShader under repeated readbacks (see
// src/gpu/nodeGpu.ts), so the CLI runs the very engine code the app runs, in headless Chromium:
// Vite serves src/cli/page.html on 127.0.0.1, the page runs one job, and Node moves the bytes.
//
// File bridge (same origin, loopback only):
//   GET  /__lorasc/file?path=ABS   a file under one of the job's input roots (anything else: 403)
//   POST /__lorasc/out?path=REL    bytes written under the job's output folder (no `..`, no absolute),
//                                  to a temporary name first, then renamed onto REL
//   GET  /__lorasc/out?path=REL    a file under the output folder (checkpoints read back for --resume)
//   GET  /__lorasc/out-list?path=REL  the files under a folder of the output folder, JSON ['a/b', …]
//   DELETE /__lorasc/out?path=REL  a file or folder under the output folder (old checkpoints)
// Progress events come back through an exposed function; the job's result through page.evaluate.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { type ViteDevServer, createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from './chromium';
import type { CliEvent, CliJob, CliResult, SerializedError } from './jobs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export class CliJobError extends Error {
  constructor(readonly serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
  }
}

export interface HostOptions {
  /** Files and folders the page may read (absolute or relative to cwd). */
  inputs: string[];
  /** Folder that receives the job's output files, if any. */
  outDir?: string;
  onEvent?: (e: CliEvent) => void;
}

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const PARTIAL = '.partial';

function bridge(inputs: string[], outDir: string | undefined) {
  const roots = inputs.map((p) => resolve(p));
  return async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fail = (status: number, msg: string) => { res.statusCode = status; res.end(msg); };
    if (url.pathname === '/__lorasc/file' && req.method === 'GET') {
      const path = resolve(url.searchParams.get('path') ?? '');
      if (!roots.some((r) => within(path, r))) return fail(403, `not an input of this command: ${path}`);
      if (!existsSync(path) || !statSync(path).isFile()) return fail(404, `no such file: ${path}`);
      res.setHeader('content-type', 'application/octet-stream');
      createReadStream(path).pipe(res);
      return;
    }
    const isOut = url.pathname === '/__lorasc/out' || url.pathname === '/__lorasc/out-list';
    if (!isOut) return next();
    if (!outDir) return fail(403, 'this command writes no files');
    const rel = normalize(url.searchParams.get('path') ?? '');
    if (!rel || rel === '.' || isAbsolute(rel) || rel.split(sep).includes('..')) return fail(400, `bad output path ${rel}`);
    const target = join(resolve(outDir), rel);
    if (url.pathname === '/__lorasc/out' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(`${target}${PARTIAL}`, Buffer.concat(chunks));
      await rename(`${target}${PARTIAL}`, target);
      res.end('ok');
      return;
    }
    if (url.pathname === '/__lorasc/out' && req.method === 'GET') {
      if (!existsSync(target) || !statSync(target).isFile()) return fail(404, `no such output file: ${rel}`);
      res.setHeader('content-type', 'application/octet-stream');
      createReadStream(target).pipe(res);
      return;
    }
    if (url.pathname === '/__lorasc/out' && req.method === 'DELETE') {
      await rm(target, { recursive: true, force: true });
      res.end('ok');
      return;
    }
    if (url.pathname === '/__lorasc/out-list' && req.method === 'GET') {
      const files = existsSync(target) && statSync(target).isDirectory()
        ? (await readdir(target, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile() && !e.name.endsWith(PARTIAL))
          .map((e) => relative(target, join(e.parentPath, e.name)).split(sep).join('/'))
        : [];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(files));
      return;
    }
    next();
  };
}

/** Starts Vite and Chromium, runs one job in the page, and tears both down. */
export async function runJob<R extends CliResult>(job: CliJob, o: HostOptions): Promise<R> {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await createServer({
      root: ROOT,
      configFile: resolve(ROOT, 'vite.config.ts'),
      // Own dependency cache, scanned from the CLI page only: the studio's dev server, vitest and the benches
      // re-optimize node_modules/.vite/deps for their own entries, and a CLI started meanwhile found that cache
      // stale, re-bundled it and timed out loading the page ("page.goto: Timeout 30000ms exceeded").
      cacheDir: resolve(ROOT, 'node_modules/.vite-lorasc-cli'),
      optimizeDeps: { entries: ['src/cli/page.html'] },
      server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
      logLevel: 'silent',
      clearScreen: false,
      plugins: [{ name: 'lorasc-cli-bridge', configureServer: (s) => { s.middlewares.use(bridge(o.inputs, o.outDir)); } }],
    });
    await server.listen();
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('the CLI could not start its local page server');
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on('request', (r) => {
      const host = new URL(r.url()).hostname;
      if (host !== '127.0.0.1' && host !== 'localhost') outside.push(r.url());
    });
    let pageError: string | undefined;
    page.on('pageerror', (e) => { pageError ??= e.message; });
    if (process.env.LORASC_DEBUG) page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
    await page.exposeFunction('__lorascEvent', (e: CliEvent) => o.onEvent?.(e));
    await page.goto(`${url}src/cli/page.html`, { timeout: 120_000 })
      .catch((e: Error) => { throw new Error(`the engine page did not load in 120 s (${e.message.split('\n')[0]})`); });
    await page.waitForFunction(() => (window as unknown as { __lorascReady?: boolean }).__lorascReady === true, null, { timeout: 120_000 })
      .catch(() => { throw new Error(`the engine page did not start${pageError ? `: ${pageError}` : ''}`); });
    const reply = (await page.evaluate(
      (j) => (window as unknown as { __lorascRun: (j: unknown) => Promise<unknown> }).__lorascRun(j),
      job as unknown,
    )) as { ok: true; result: R } | { ok: false; error: SerializedError };
    if (outside.length) throw new Error(`the engine page tried to reach ${outside[0]}; refused`);
    if (!reply.ok) throw new CliJobError(reply.error);
    return reply.result;
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
  }
}
