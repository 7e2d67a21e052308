// Issue 13 item 1: a model file above 2 GB — a sparse file of zeros behind a valid header — loaded by the
// CLI without a whole-file buffer. The file holds the tiny GPT-2's real tensors followed by an
// `h.0.attn.bias` buffer of 1·1·23200·23200 F32 (2.15 GB, a hole on disk, created here with ftruncate and
// removed after): a passthrough the engine never needs. The eval's loss must equal the CPU reference's
// on the tiny GPT-2, and the bridge's counters must show reads of single tensors, never of the file.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync, writeSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { loadModelDir, type LoadedGpt2, sourceFromMap } from '../../src/io/hfModel';
import { readSafetensors } from '../../src/io/safetensors';
import { referenceGpt2Logits } from '../../src/model/gpt2/reference';
import { crossEntropy } from '../../src/train/evaluate';

const ROOT = resolve(import.meta.dirname, '../..');
const GPT2 = join(ROOT, 'test/fixtures/gpt2_tiny');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-2gb-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const N = 23_200; // N²·4 bytes = 2,152,960,000 > 2³¹
const ids = [5, 17, 99, 3, 42, 42, 7, 64, 1, 100, 23, 8];

/** The tiny GPT-2's tensors, then the huge buffer; only the header and the small tensors are written. */
function writeBigModel(dir: string): number {
  mkdirSync(dir);
  copyFileSync(join(GPT2, 'config.json'), join(dir, 'config.json'));
  const small = readSafetensors(readFileSync(join(GPT2, 'model.safetensors')));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of small.tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.raw.byteLength] };
    parts.push(t.raw);
    offset += t.raw.byteLength;
  }
  const big = 4 * N * N;
  const prefix = [...small.tensors.keys()].find((k) => k.endsWith('wte.weight'))?.slice(0, -'wte.weight'.length) ?? '';
  header[`${prefix}h.0.attn.bias`] = { dtype: 'F32', shape: [1, 1, N, N], data_offsets: [offset, offset + big] };
  const text = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(text.length / 8) * 8;
  const head = new Uint8Array(8 + n).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(text, 8);
  const total = 8 + n + offset + big;
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  try {
    writeSync(fd, head);
    for (const p of parts) writeSync(fd, p);
    ftruncateSync(fd, total); // the buffer's bytes: a hole of zeros, no disk space
  } finally {
    closeSync(fd);
  }
  return total;
}

it('evaluates a GPT-2 whose model.safetensors is above 2 GB, reading tensor by tensor', async () => {
  const dir = join(base, 'big');
  const size = writeBigModel(dir);
  expect(statSync(join(dir, 'model.safetensors')).size).toBe(size);
  expect(size).toBeGreaterThan(2 ** 31);
  const tokens = join(base, 'ids.json');
  writeFileSync(tokens, JSON.stringify(ids));

  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.map(String).join(' ')); });
  const cerr = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.map(String).join(' ')); });
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s)); return true; });
  let code: number;
  try {
    code = await main(['eval', '--model', dir, '--tokens', tokens, '--json']);
  } finally {
    log.mockRestore();
    cerr.mockRestore();
    write.mockRestore();
  }
  expect(code, err.join('')).toBe(0);
  const r = JSON.parse(out.join('\n')) as { loss: number; load: { bytes_read: number; reads: number; max_read: number } };

  // What was read: the small tensors and the header, one read each; never the 2 GB buffer.
  const small = statSync(join(GPT2, 'model.safetensors')).size;
  expect(r.load.max_read).toBeLessThan(small);
  expect(r.load.bytes_read).toBeLessThan(2 * small); // model + any re-read of the tied embedding: far below the file
  expect(r.load.reads).toBeGreaterThan(2);

  // The loss is the tiny GPT-2's, by the CPU reference (an independent forward).
  const loaded = (await loadModelDir(sourceFromMap(new Map([
    ['config.json', readFileSync(join(GPT2, 'config.json'))], ['model.safetensors', readFileSync(join(GPT2, 'model.safetensors'))],
  ])))) as LoadedGpt2;
  const V = loaded.config.vocab_size, T = ids.length;
  const logits = referenceGpt2Logits(loaded, Uint32Array.from(ids), 1, T);
  let sum = 0;
  for (let j = 0; j < T - 1; j++) sum += crossEntropy(logits.subarray(j * V, (j + 1) * V), ids[j + 1]);
  expect(Math.abs(r.loss - sum / (T - 1))).toBeLessThan(1e-4);
}, 300_000);
