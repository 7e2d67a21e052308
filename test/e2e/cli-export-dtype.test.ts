// Issue 13 item 6, export precision (CLI): `lorasc train --export-dtype bf16` writes merged/ in BF16, each
// element the F32 merge W + scale·(B·A)ᵀ (float64, rounded to F32) rounded once more to BF16; config.json says
// bfloat16; summary.json holds the rounding figure (how much of the update survived) and the sampled-rows
// merge check. A COLA cascade (whose merged weights come from the cascade, checked against its stacked adapter)
// passes the merge check too. A bad --export-dtype is one line and exit 2.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { f32ToBf16Bits } from '../../src/io/export';
import { bf16BitsToF32Bits, readSafetensors } from '../../src/io/safetensors';

const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = join(ROOT, 'public/demo/gpt2-fortunes');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-export-dtype-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bf16 = (x: number) => { u32[0] = bf16BitsToF32Bits(f32ToBf16Bits(x)); return f32[0]; };

async function run(args: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const cerr = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.map(String).join(' ')); });
  const clog = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { code: await main(args), err };
  } finally {
    cerr.mockRestore();
    clog.mockRestore();
  }
}

function data(): string {
  const p = join(base, 'rows.txt');
  writeFileSync(p, Array.from({ length: 16 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n'));
  return p;
}

it('train --export-dtype bf16 writes the F32 merge rounded once, with the rounding figure', async () => {
  const out = join(base, 'bf16');
  const { code, err } = await run(['train', '--model', MODEL, '--data', data(), '--method', 'lora', '--max-steps', '1', '--seq-len', '16', '--batch', '2',
    '--lr', '0.05', '--schedule', 'constant', '--warmup-ratio', '0', '--export-dtype', 'bf16', '--out', out]);
  expect(code, err.join('\n')).toBe(0);
  const merged = readSafetensors(readFileSync(join(out, 'merged/model.safetensors')));
  expect(JSON.parse(readFileSync(join(out, 'merged/config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
  const baseFile = readSafetensors(readFileSync(join(MODEL, 'model.safetensors')));
  const adapter = readSafetensors(readFileSync(join(out, 'adapter/adapter_model.safetensors')));
  const acfg = JSON.parse(readFileSync(join(out, 'adapter/adapter_config.json'), 'utf8')) as { r: number; lora_alpha: number };
  const scale = acfg.lora_alpha / acfg.r;
  let changed = 0, survived = 0, targets = 0;
  for (const [key, t] of merged.tensors) {
    expect(t.dtype, key).toBe('BF16');
    const b = baseFile.get(key).data;
    const path = key.replace(/\.weight$/, '');
    const A = adapter.tensors.get(`base_model.model.${path}.lora_A.weight`);
    if (!A) { expect(Array.from(t.data), key).toEqual(Array.from(b, bf16)); continue; }
    targets++;
    const B = adapter.get(`base_model.model.${path}.lora_B.weight`);
    const [IN, OUT] = t.shape, r = A.shape[0];
    for (let i = 0; i < IN; i++) {
      for (let o = 0; o < OUT; o++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B.data[o * r + k] * A.data[k * IN + i];
        const w = Math.fround(b[i * OUT + o] + scale * d);
        expect(t.data[i * OUT + o]).toBe(bf16(w));
        if (w !== b[i * OUT + o]) { changed++; if (bf16(w) !== bf16(b[i * OUT + o])) survived++; }
      }
    }
  }
  expect(targets).toBe(3);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  expect(summary.export_dtype).toBe('BF16');
  expect(summary.rounding.changed).toBe(changed);
  expect(summary.rounding.survived).toBe(survived);
  expect(changed).toBeGreaterThan(0);
  expect(summary.merge_check.tensors).toBe(3);
  expect(summary.merge_check.max_ulps).toBeLessThanOrEqual(1);
}, 300_000);

it('a COLA cascade\'s merged weights pass the sampled-rows merge check against its stacked adapter', async () => {
  const out = join(base, 'cola');
  const { code, err } = await run(['train', '--model', MODEL, '--data', data(), '--method', 'cola', '--max-steps', '4', '--seq-len', '16', '--batch', '2', '--out', out]);
  expect(code, err.join('\n')).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  expect(summary.export_dtype).toBe('F32');
  expect(summary.merge_check?.tensors ?? 0).toBeGreaterThan(0);
}, 300_000);

it('refuses an unknown --export-dtype in one line', async () => {
  const { code, err } = await run(['export', '--model', MODEL, '--adapter', MODEL, '--out', join(base, 'x'), '--export-dtype', 'fp8']);
  expect(code).toBe(2);
  expect(err).toHaveLength(1);
  expect(err[0]).toMatch(/--export-dtype must be F32, BF16 or F16, got "fp8"/);
});
