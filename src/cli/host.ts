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
import { openEnginePage } from './enginePage';
import type { CliEvent, CliJob, CliResult, SerializedError } from './jobs';

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
  const engine = await openEnginePage({
    path: 'src/cli/page.html', readyFlag: '__lorascReady', cacheDir: 'node_modules/.vite-lorasc-cli', what: 'the engine page',
    expose: { __lorascEvent: (e: CliEvent) => o.onEvent?.(e) },
    plugins: [{ name: 'lorasc-cli-bridge', configureServer: (s) => { s.middlewares.use(bridge(o.inputs, o.outDir)); } }],
  });
  try {
    const reply = (await engine.page.evaluate(
      (j) => (window as unknown as { __lorascRun: (j: unknown) => Promise<unknown> }).__lorascRun(j),
      job as unknown,
    )) as { ok: true; result: R } | { ok: false; error: SerializedError };
    if (engine.outside.length) throw new Error(`the engine page tried to reach ${engine.outside[0]}; refused`);
    if (!reply.ok) throw new CliJobError(reply.error);
    return reply.result;
  } finally {
    await engine.close();
  }
}
