// The engine page's uploads to the CLI bridge (src/cli/page/bridge.ts) under Playwright, as the CLI runs them.
// Playwright keeps the DevTools protocol's Network domain on, and Chromium copies a byte-array request body,
// whole and base64-encoded, into its requestWillBeSent event: that copy, not the bridge, held the export's
// uploads to about 1 MB/s (docs/engineering.md#cli-uploads). The bridge sends Blob bodies, which the event
// does not carry. This test reads the event's body as Playwright received it (request.postDataBuffer()):
// empty for every bridge upload, the whole body for a byte-array control upload from the same page (so the
// probe does see inlined bodies), and the files on disk hold exactly the bytes sent. No timing is asserted.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Request } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/cli/chromium';
import { newToken } from '../../src/cli/guard';
import { bridgeServer } from '../node/cli/http';

const out = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-upload-')));
const token = newToken();
let server: ViteDevServer;
let url: string;
let browser: Browser;

beforeAll(async () => {
  ({ server, url } = await bridgeServer(token, [out], out));
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(out, { recursive: true, force: true });
});

/** A byte pattern that shows misplaced or dropped bytes: byte i is (i·7 + i>>8) mod 256. */
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

it('bridge uploads reach disk whole without their bodies in the DevTools events', async () => {
  const page = await browser.newPage();
  const uploads: Request[] = [];
  page.on('request', (r) => { if (r.method() === 'POST') uploads.push(r); });
  await page.goto(`${url}__lorasc/none`); // any page of the server's own origin (this one answers 403)
  // Plain JavaScript run as written (vitest would rewrite a function's dynamic import for Node).
  const sent = await page.evaluate(`(async () => {
    const bridge = await import('/src/cli/page/bridge.ts');
    bridge.setBridgeToken(${JSON.stringify(token)});
    const bytes = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
    // A weights file in two appends (the second a subarray, as the 64 MiB parts are), and one small whole file.
    const w = await bridge.outSink('merged').open('model.safetensors');
    const big = bytes(3 << 20);
    await w.append(big.subarray(0, 1 << 20));
    await w.append(big.subarray(1 << 20));
    await w.close();
    await bridge.writeOut('summary.json', '{"ok": true}');
    // The control: the same kind of body as a byte array, as the bridge sent it before.
    await fetch('/__lorasc/out?path=control.bin', { method: 'POST', body: bytes(1 << 20), headers: { 'x-lorasc-token': ${JSON.stringify(token)} } });
    return true;
  })()`);
  expect(sent).toBe(true);
  const paths = uploads.map((r) => new URL(r.url()).searchParams.get('path'));
  expect(paths).toEqual(['merged/model.safetensors', 'merged/model.safetensors', 'merged/model.safetensors', 'summary.json', 'control.bin']);
  const inlined = uploads.map((r) => r.postDataBuffer()?.byteLength ?? 0);
  // out-part ×2 and out-commit (no body), out: nothing inlined; the control's whole MiB was.
  expect(inlined).toEqual([0, 0, 0, 0, 1 << 20]);
  expect(readFileSync(join(out, 'merged/model.safetensors')).equals(Buffer.from(pattern(3 << 20)))).toBe(true);
  expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{"ok": true}');
  expect(readFileSync(join(out, 'control.bin')).equals(Buffer.from(pattern(1 << 20)))).toBe(true);
  await page.close();
}, 180_000);
