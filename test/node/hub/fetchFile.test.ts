// fetchFile on answers the Hub-layout server does not give: no Content-Length (chunked), so the size
// is unknown until the end, and a dropped chunked answer resumed by Range.
import { afterEach, describe, expect, it } from 'vitest';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchFile, memorySink } from '../../../src/io/hub';

const BYTES = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251);
let server: Server | undefined;
afterEach(() => new Promise<void>((ok) => (server ? server.close(() => ok()) : ok())));

/** Chunked answers (no Content-Length); the first one is cut after `cut` bytes when set. */
function start(cut: number | null): Promise<{ url: string; ranges: (string | null)[] }> {
  const ranges: (string | null)[] = [];
  server = createServer((req, res) => {
    ranges.push(req.headers.range ?? null);
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const body = BYTES.subarray(from);
    res.writeHead(from ? 206 : 200, from ? { 'Content-Range': `bytes ${from}-${BYTES.length - 1}/*` } : {});
    if (cut !== null && ranges.length === 1) { res.write(body.subarray(0, cut / 2)); res.write(body.subarray(cut / 2, cut), () => req.socket.destroy()); return; }
    for (let o = 0; o < body.length; o += 40_000) res.write(body.subarray(o, o + 40_000));
    res.end();
  });
  return new Promise((ok) => server!.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/f`, ranges })));
}

const asked = { repo: 'a/b', revision: 'main', file: 'f', hasToken: false };

describe('fetchFile with no size known', () => {
  it('joins a chunked answer and reports progress with no total', async () => {
    const { url } = await start(null);
    const totals = new Set<number | null>();
    const sink = memorySink();
    const { size } = await fetchFile(url, sink, { asked, onProgress: (p) => totals.add(p.total) });
    expect(size).toBe(BYTES.length);
    expect(Buffer.from(sink.bytes()).equals(Buffer.from(BYTES))).toBe(true);
    expect([...totals]).toEqual([null]);
  });

  it('resumes a dropped chunked answer from the byte it reached', async () => {
    const { url, ranges } = await start(100_000);
    const sink = memorySink();
    await fetchFile(url, sink, { asked, backoffMs: 1 });
    expect(Buffer.from(sink.bytes()).equals(Buffer.from(BYTES))).toBe(true);
    expect(ranges[0]).toBeNull();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges[1] ?? '')?.[0])).toBeGreaterThan(0);
  });
});
