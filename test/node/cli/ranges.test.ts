// The bridge's ranged reads and streamed writes (issue 13 items 1 and 6): a model file is served by byte
// ranges (206, exactly the bytes asked, counted), its size by &stat=1; an output file is written in parts
// appended at their offset and renamed onto its name only when complete.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken } from '../../../src/cli/guard';
import { byteRange } from '../../../src/cli/host';
import { bridgeServer, send } from './http';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-ranges-test-')));
const model = join(base, 'model');
const out = join(base, 'out');
const token = newToken();
const T = { 'x-lorasc-token': token };
const served: [string, number][] = [];
let server: ViteDevServer;
let url: string;
const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
const file = join(model, 'model.safetensors');
const fileUrl = (p: string) => `${url}__lorasc/file?path=${encodeURIComponent(p)}`;

beforeAll(async () => {
  mkdirSync(model);
  mkdirSync(out);
  writeFileSync(file, bytes);
  symlinkSync(join(base, 'victim.txt'), join(out, 'w.bin.partial'));
  ({ server, url } = await bridgeServer(token, [model], out, (p, n) => served.push([p, n])));
});
afterAll(async () => {
  await server?.close();
  rmSync(base, { recursive: true, force: true });
});

/** GET with a Range header; the body as bytes. */
async function ranged(range: string): Promise<{ status: number; body: Uint8Array; headers: Record<string, unknown> }> {
  const res = await fetch(fileUrl(file), { headers: { ...T, range } });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()), headers: Object.fromEntries(res.headers) };
}

describe('ranged reads', () => {
  it('serves exactly the asked bytes (206, content-range) and counts them', async () => {
    served.length = 0;
    const r = await ranged('bytes=10-19');
    expect(r.status).toBe(206);
    expect([...r.body]).toEqual([...bytes.subarray(10, 20)]);
    expect(r.headers['content-range']).toBe('bytes 10-19/1000');
    expect(served).toEqual([[file, 10]]);
    const last = await ranged('bytes=999-999');
    expect([...last.body]).toEqual([bytes[999]]);
  });

  it('tells the size with &stat=1, and refuses ranges outside the file or of another form with one line', async () => {
    expect(JSON.parse((await send(`${fileUrl(file)}&stat=1`, { headers: T })).body)).toEqual({ size: 1000 });
    for (const range of ['bytes=10-1000', 'bytes=20-10', 'bytes=-5', 'bytes=0-1,4-5', 'items=0-1']) {
      const r = await send(fileUrl(file), { headers: { ...T, range } });
      expect(r.status, range).toBe(416);
      expect(r.body).not.toContain('\n');
    }
    expect((await send(`${fileUrl(file)}&stat=1`)).status).toBe(403); // the token still guards it
  });

  it('byteRange parses one inclusive span', () => {
    expect(byteRange('bytes=0-0', 1)).toEqual({ start: 0, end: 1 });
    expect(() => byteRange('bytes=0-1', 1)).toThrow(/not one span/);
  });
});

describe('streamed writes', () => {
  const part = (rel: string, offset: number, body: string) =>
    send(`${url}__lorasc/out-part?path=${encodeURIComponent(rel)}&offset=${offset}`, { method: 'POST', headers: T, body });
  const commit = (rel: string, size: number) =>
    send(`${url}__lorasc/out-commit?path=${encodeURIComponent(rel)}&size=${size}`, { method: 'POST', headers: T });

  it('appends parts at their offsets and renames only a complete file', async () => {
    expect((await part('merged/a.bin', 0, 'abc')).status).toBe(200);
    expect((await part('merged/a.bin', 3, 'defg')).status).toBe(200);
    expect(existsSync(join(out, 'merged/a.bin'))).toBe(false);
    const wrong = await part('merged/a.bin', 3, 'x'); // a part out of order is refused, nothing appended
    expect(wrong.status).toBe(409);
    expect((await commit('merged/a.bin', 99)).status).toBe(409);
    expect((await commit('merged/a.bin', 7)).status).toBe(200);
    expect(readFileSync(join(out, 'merged/a.bin'), 'utf8')).toBe('abcdefg');
    expect(existsSync(join(out, 'merged/a.bin.partial'))).toBe(false);
  });

  it('never writes through a link planted at the temporary name', async () => {
    expect((await part('w.bin', 0, 'pwned')).status).toBe(200);
    expect(existsSync(join(base, 'victim.txt'))).toBe(false);
    expect((await commit('w.bin', 5)).status).toBe(200);
    expect(readFileSync(join(out, 'w.bin'), 'utf8')).toBe('pwned');
  });
});
