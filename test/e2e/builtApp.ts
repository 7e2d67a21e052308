// The built app as `npm start` serves it: `vite build` into a fresh temporary folder, then `vite preview`
// on a free loopback port, with the project's vite.config.ts (so the same headers as `npm start`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';

const ROOT = resolve(import.meta.dirname, '../..');

export interface BuiltApp {
  /** The page's URL, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Its origin: the only one the page may talk to. */
  origin: string;
  outDir: string;
  close(): Promise<void>;
}

export async function buildAndPreview(): Promise<BuiltApp> {
  const outDir = await mkdtemp(join(tmpdir(), 'lorasc-dist-'));
  let server: PreviewServer | undefined;
  try {
    await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
    server = await preview({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview gave no URL');
    const s = server;
    return {
      url, origin: new URL(url).origin, outDir,
      close: async () => { await s.close(); await rm(outDir, { recursive: true, force: true }); },
    };
  } catch (e) {
    await server?.close();
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
}
