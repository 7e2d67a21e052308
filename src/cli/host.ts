// The CLI's engine host. Dawn's Node bindings crash on SwiftShader under repeated readbacks (see
// src/gpu/nodeGpu.ts), so the CLI runs the very engine code the app runs, in headless Chromium:
// Vite serves src/cli/page.html on 127.0.0.1, the page runs one job, and Node moves the bytes.
//
// File bridge (loopback only; every request from the page's own origin — guard.ts — and carrying
// this run's token in the x-lorasc-token header; anything else: 403):
//   GET  /__lorasc/file?path=ABS   a file under one of the job's input roots (by real path; anything else: 403);
//                                  with `Range: bytes=A-B` only those bytes (206), and with &stat=1 its size as
//                                  JSON {"size": N}: model files are streamed tensor by tensor (issue 13 item 1)
//   POST /__lorasc/out?path=REL    bytes streamed under the job's output folder (no `..`, no absolute, no
//                                  symlinked folder on the way), to a temporary name first, then renamed onto REL
//   POST /__lorasc/out-part?path=REL&offset=N  bytes appended to REL's temporary name (offset 0 starts it afresh;
//                                  any other offset must be its current size): a streamed export writes a
//                                  shard tensor by tensor without the page ever holding the file
//   POST /__lorasc/out-copy?path=REL&offset=N&src=ABS&start=A&end=B&dtype=D&shape=a,b&to=E&key=K&file=F
//                                  appends an unchanged tensor of the export straight from the input file SRC
//                                  (bytes [A, B) in dtype D, under the input roots), as the page would have
//                                  written it (src/io/export/storedTensor.ts): the base's weights never cross
//                                  the page, whose uploads are slow; answers the bytes appended
//   POST /__lorasc/out-commit?path=REL  renames the temporary name onto REL (its size must be &size=N)
//   GET  /__lorasc/out?path=REL    a file under the output folder (checkpoints read back for --resume)
//   GET  /__lorasc/out-list?path=REL  the files under a folder of the output folder, JSON ['a/b', …]
//   DELETE /__lorasc/out?path=REL  a file or folder under the output folder (old checkpoints)
// The output folder is only ever the --out folder the user named or a private temporary folder
// (outputs.ts). A file-system error answers 500 with one line, which the page's job reports; it never
// escapes as an unhandled rejection or stream error (those killed or hung the CLI).
// Progress events come back through an exposed function; the job's result through page.evaluate.
import { open, readdir, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Page } from 'playwright-core';
import type { Plugin } from 'vite';
import { openEnginePage } from './enginePage';
import { hasToken, newToken } from './guard';
import type { CliEvent, CliJob, CliResult, SerializedError } from './jobs';
import { Refused, outExisting, outFolderFor, outParts, realUnder } from './paths';
import { appendStoredTensor } from './storedCopy';

export class CliJobError extends Error {
  constructor(readonly serialized: SerializedError) {
    super(serialized.message);
    this.name = serialized.name;
  }
}

export interface HostOptions {
  /** Files and folders the page may read (they must exist). */
  inputs: string[];
  /** Folder that receives the job's output files, if any: the user's --out or a private temporary folder. */
  outDir?: string;
  onEvent?: (e: CliEvent) => void;
  /** Tests only: the engine page once it is up (to crash it on purpose, as an out-of-memory kill would). */
  onPage?: (page: Page) => void;
}

/**
 * The page or the browser died under the job (issue 13 item 7): Chromium's renderer killed (out of memory,
 * the usual cause with a large model) or the browser gone. One line naming what happened, when, the likely
 * cause and what is left; files already written (checkpoints) are complete, since each is renamed into
 * place only once whole.
 */
export function crashError(what: 'page' | 'browser', during: string | undefined, outDir: string | undefined): CliJobError {
  const who = what === 'page' ? 'the engine page (Chromium renderer) crashed' : 'the browser process exited';
  const when = during ? ` during "${during}"` : '';
  const left = outDir ? `; files already written under ${outDir} (checkpoints included) are intact, and \`lorasc train --resume\` continues from the last checkpoint` : '';
  return new CliJobError({
    name: 'Error', code: 'CLI_PAGE_CRASHED',
    message: `${who}${when}; the likely cause is memory (the model and its activations did not fit): try a smaller --batch or --seq-len, or close other programs${left}`,
  });
}

const PARTIAL = '.partial';

/** The first line of an error, for a 500 body and the page's message. */
const oneLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Streams a regular file. It is checked with stat first (opening a FIFO would block until a writer comes) and
 * opened before anything is sent, so EACCES & co. answer 500 with their line; a read error before the first
 * byte does too, and one later cuts the response (the page sees a failed fetch, never a hang).
 */
async function sendFile(res: ServerResponse, path: string, range?: string, served?: ServedCounter): Promise<void> {
  const st = await stat(path);
  if (!st.isFile()) throw new Refused(404, `not a regular file: ${path}`);
  const span = range === undefined ? undefined : byteRange(range, st.size);
  const fh = await open(path, 'r');
  res.setHeader('content-type', 'application/octet-stream');
  if (span) {
    res.statusCode = 206;
    res.setHeader('content-range', `bytes ${span.start}-${span.end - 1}/${st.size}`);
  }
  // A whole file is streamed without a length: the size of /proc-like files says nothing of their bytes.
  if (span) res.setHeader('content-length', String(span.end - span.start));
  served?.(path, span ? span.end - span.start : st.size);
  await new Promise<void>((done, fail) => {
    // closes fh when it ends or fails; `end` is inclusive
    const rs = fh.createReadStream(span ? { start: span.start, end: span.end - 1 } : {});
    rs.on('error', (e) => {
      if (!res.headersSent) fail(e);
      else { res.destroy(e); done(); }
    });
    res.on('close', () => { rs.destroy(); done(); });
    rs.pipe(res);
  });
}

/** Bytes served per real path (the evidence that a model file was never sent whole). */
export type ServedCounter = (path: string, bytes: number) => void;

/** One `bytes=A-B` range (B inclusive, as HTTP says) → [start, end); anything else (several ranges, suffixes) is refused. */
export function byteRange(header: string, size: number): { start: number; end: number } {
  const m = /^bytes=(\d{1,16})-(\d{1,16})$/.exec(header.trim());
  const start = m ? Number(m[1]) : NaN, last = m ? Number(m[2]) : NaN;
  if (!m || last < start || last >= size) throw new Refused(416, `range ${JSON.stringify(header)} is not one span inside the file's ${size} bytes`);
  return { start, end: last + 1 };
}

/** The bridge's routes, given real input roots and the real output root. */
export function fileBridge(token: string, roots: readonly string[], outRoot: string | undefined, served?: ServedCounter) {
  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!hasToken(req, token)) throw new Refused(403, 'missing or wrong bridge token');
    const param = url.searchParams.get('path') ?? '';
    if (url.pathname === '/__lorasc/file' && req.method === 'GET') {
      if (!isAbsolute(param)) throw new Refused(400, `not an absolute path: ${JSON.stringify(param)}`);
      const real = await realUnder(param, roots);
      if (url.searchParams.get('stat') === '1') {
        const st = await stat(real);
        if (!st.isFile()) throw new Refused(404, `not a regular file: ${param}`);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ size: st.size }));
        return;
      }
      const range = req.headers.range;
      return sendFile(res, real, typeof range === 'string' ? range : undefined, served);
    }
    const isOut = ['/__lorasc/out', '/__lorasc/out-list', '/__lorasc/out-part', '/__lorasc/out-copy', '/__lorasc/out-commit'].includes(url.pathname);
    if (!isOut) throw new Refused(404, `no such bridge route: ${req.method} ${url.pathname}`);
    if (!outRoot) throw new Refused(403, 'this command writes no files');
    const parts = outParts(param);
    const rel = parts.join('/');
    if (url.pathname === '/__lorasc/out' && req.method === 'POST') {
      const target = join(await outFolderFor(outRoot, parts), parts[parts.length - 1]);
      const partial = `${target}${PARTIAL}`;
      // 'wx' (O_EXCL) never follows a link planted at the temporary name; a stale one is removed first.
      await rm(partial, { force: true });
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      try {
        await writeFile(partial, Buffer.concat(chunks), { flag: 'wx' });
        await rename(partial, target);
      } catch (e) {
        await unlink(partial).catch(() => undefined);
        throw e;
      }
      res.end('ok');
      return;
    }
    if (url.pathname === '/__lorasc/out-part' && req.method === 'POST') {
      const partial = `${join(await outFolderFor(outRoot, parts), parts[parts.length - 1])}${PARTIAL}`;
      const offset = Number(url.searchParams.get('offset'));
      if (!Number.isSafeInteger(offset) || offset < 0) throw new Refused(400, 'out-part needs &offset=N');
      if (offset === 0) await rm(partial, { force: true });
      else {
        const have = await stat(partial).then((x) => x.size, () => -1);
        if (have !== offset) throw new Refused(409, `${rel}: the partial file has ${have} bytes, not ${offset}`);
      }
      // Streamed to disk as it arrives ('wx' for the first part: never through a link planted at the name).
      const fh = await open(partial, offset === 0 ? 'wx' : 'a');
      try {
        for await (const c of req) await fh.write(c as Buffer);
      } finally {
        await fh.close();
      }
      res.end('ok');
      return;
    }
    if (url.pathname === '/__lorasc/out-copy' && req.method === 'POST') {
      const partial = `${join(await outFolderFor(outRoot, parts), parts[parts.length - 1])}${PARTIAL}`;
      const n = await appendStoredTensor(partial, url.searchParams, (src) => realUnder(src, roots));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ bytes: n }));
      return;
    }
    if (url.pathname === '/__lorasc/out-commit' && req.method === 'POST') {
      const target = join(await outFolderFor(outRoot, parts), parts[parts.length - 1]);
      const size = Number(url.searchParams.get('size'));
      const have = await stat(`${target}${PARTIAL}`).then((x) => x.size, () => -1);
      if (have !== size) throw new Refused(409, `${rel}: the partial file has ${have} bytes, not ${size}`);
      await rename(`${target}${PARTIAL}`, target);
      res.end('ok');
      return;
    }
    if (url.pathname === '/__lorasc/out' && req.method === 'GET') {
      return sendFile(res, await outExisting(outRoot, parts).catch((e) => {
        throw e instanceof Refused && e.status === 404 ? new Refused(404, `no such output file: ${rel}`) : e;
      }));
    }
    if (url.pathname === '/__lorasc/out' && req.method === 'DELETE') {
      // The folder holding it must really be inside the output folder; the entry itself, if a link, is
      // removed as a link (rm does not follow it).
      if (parts.length > 1) await outExisting(outRoot, parts.slice(0, -1)).catch((e) => { if (!(e instanceof Refused && e.status === 404)) throw e; });
      await rm(join(outRoot, ...parts), { recursive: true, force: true });
      res.end('ok');
      return;
    }
    if (url.pathname === '/__lorasc/out-list' && req.method === 'GET') {
      let dir: string | undefined;
      try {
        dir = await outExisting(outRoot, parts);
      } catch (e) {
        if (!(e instanceof Refused && e.status === 404)) throw e;
      }
      // Recursive readdir does not descend into symlinked folders, and links are not files (isFile()).
      const files = dir && (await stat(dir)).isDirectory()
        ? (await readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile() && !e.name.endsWith(PARTIAL))
          .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
        : [];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(files));
      return;
    }
    throw new Refused(405, `${req.method} ${url.pathname} is not a bridge route`);
  };
  return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!url.pathname.startsWith('/__lorasc/')) return next();
    // A page that dies mid-request resets its connection: without listeners the stream's 'error'
    // (`aborted`, ECONNRESET) was an uncaught exception that killed the CLI with a stack trace. The
    // route sees the failure through its own reads and writes; these only keep it from escaping.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    route(req, res, url).catch((e: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      res.statusCode = e instanceof Refused ? e.status : 500;
      res.setHeader('content-type', 'text/plain');
      res.end(oneLine(e));
    });
  };
}

/** The bridge as a Vite plugin (after guard.ts's origin guard, which runs first: enforce 'pre'). */
export function bridgePlugin(token: string, roots: readonly string[], outRoot: string | undefined, served?: ServedCounter): Plugin {
  return { name: 'lorasc-cli-bridge', configureServer: (s) => { s.middlewares.use(fileBridge(token, roots, outRoot, served)); } };
}

/** Starts Vite and Chromium, runs one job in the page, and tears both down. */
export async function runJob<R extends CliResult>(job: CliJob, o: HostOptions): Promise<R> {
  const token = newToken();
  const roots = await Promise.all(o.inputs.map((p) => realpath(p)));
  const outRoot = o.outDir === undefined ? undefined : await realpath(o.outDir);
  let during: string | undefined; // the job's last status line, to say when a crash happened
  const engine = await openEnginePage({
    path: 'src/cli/page.html', readyFlag: '__lorascReady', cacheDir: 'node_modules/.vite-lorasc-cli', what: 'the engine page',
    expose: { __lorascEvent: (e: CliEvent) => { if (e.type === 'status') during = e.message; o.onEvent?.(e); } },
    plugins: [bridgePlugin(token, roots, outRoot)],
  });
  try {
    // A crashed page never answers evaluate(): the crash (or the browser's exit) settles the job instead.
    const crashed = new Promise<never>((_, reject) => {
      engine.page.once('crash', () => reject(crashError('page', during, o.outDir)));
      engine.page.context().browser()?.once('disconnected', () => reject(crashError('browser', during, o.outDir)));
    });
    crashed.catch(() => undefined); // settled by the race below, or never looked at once the job is done
    o.onPage?.(engine.page);
    // The token reaches the page through Playwright, never through a URL or a response another page could read.
    const run = engine.page.evaluate(
      ({ j, t }) => (window as unknown as { __lorascRun: (j: unknown, t: string) => Promise<unknown> }).__lorascRun(j, t),
      { j: job as unknown, t: token },
    );
    run.catch(() => undefined); // after a crash its rejection ("Target crashed") is not the error reported
    const reply = (await Promise.race([run, crashed])) as { ok: true; result: R } | { ok: false; error: SerializedError };
    if (engine.outside.length) throw new Error(`the engine page tried to reach ${engine.outside[0]}; refused`);
    if (!reply.ok) throw new CliJobError(reply.error);
    return reply.result;
  } finally {
    await engine.close();
  }
}
