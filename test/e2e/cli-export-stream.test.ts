// Issue 13 item 6 (CLI): `lorasc train` writes merged/ tensor by tensor straight to disk, sharded as
// transformers shards (here above --max-shard-bytes 400000 instead of 5 GB) with model.safetensors.index.json
// as transformers writes it. Checked independently in Node: the shards re-read with the strict sharded
// reader, every tensor equal to the base's except the LoRA targets, which equal W + scale·(B·A)ᵀ computed in
// float64 from the adapter the run wrote; no `.partial` file is left.
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { loadShardedSafetensors, readSafetensors } from '../../src/io/safetensors';

const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = join(ROOT, 'public/demo/gpt2-fortunes');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-export-stream-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

it('train writes merged/ as shards + index, tensor by tensor, equal to base + adapter', async () => {
  const data = join(base, 'rows.txt');
  writeFileSync(data, Array.from({ length: 16 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n'));
  const out = join(base, 'run');
  const err: string[] = [];
  const cerr = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.map(String).join(' ')); });
  const clog = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  let code: number;
  try {
    code = await main(['train', '--model', MODEL, '--data', data, '--method', 'lora', '--max-steps', '1', '--seq-len', '16', '--batch', '2',
      '--lr', '0.05', '--schedule', 'constant', '--warmup-ratio', '0', '--max-shard-bytes', '400000', '--out', out]);
  } finally {
    cerr.mockRestore();
    clog.mockRestore();
  }
  expect(code, err.join('\n')).toBe(0);
  const merged = join(out, 'merged');
  const names = readdirSync(merged);
  expect(names.filter((n) => n.endsWith('.partial'))).toEqual([]);
  const shards = names.filter((n) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(n)).sort();
  expect(shards.length).toBeGreaterThan(2);
  expect(names).not.toContain('model.safetensors');

  // The index: transformers' json.dumps(indent=2, sort_keys=True) + "\n", total_size = the tensors' bytes.
  const indexText = readFileSync(join(merged, 'model.safetensors.index.json'), 'utf8');
  const index = JSON.parse(indexText) as { metadata: { total_size: number }; weight_map: Record<string, string> };
  const keys = Object.keys(index.weight_map);
  expect(keys).toEqual([...keys].sort());
  expect(indexText).toBe(`${JSON.stringify(index, null, 2)}\n`);
  const set = await loadShardedSafetensors(async (n) => readFileSync(join(merged, n)));
  expect(set.warnings).toEqual([]);
  expect(index.metadata.total_size).toBe([...set.tensors.values()].reduce((n, t) => n + t.raw.byteLength, 0));
  for (const s of shards) expect(readFileSync(join(merged, s)).byteLength).toBeLessThan(400_000 + 4096);

  // Values: base everywhere, base + scale·(B·A)ᵀ on the adapter's targets (Conv1D [in, out]).
  const baseFile = readSafetensors(readFileSync(join(MODEL, 'model.safetensors')));
  const adapter = readSafetensors(readFileSync(join(out, 'adapter/adapter_model.safetensors')));
  const acfg = JSON.parse(readFileSync(join(out, 'adapter/adapter_config.json'), 'utf8')) as { r: number; lora_alpha: number };
  const scale = acfg.lora_alpha / acfg.r;
  expect(set.tensors.size).toBe(baseFile.tensors.size);
  let targets = 0, maxDelta = 0;
  for (const [key, t] of set.tensors) {
    const b = baseFile.get(key).data;
    const got = t.data;
    const path = key.replace(/\.weight$/, '');
    const A = adapter.tensors.get(`base_model.model.${path}.lora_A.weight`);
    if (!A) { expect(got, key).toEqual(b); continue; }
    targets++;
    const B = adapter.get(`base_model.model.${path}.lora_B.weight`);
    const [IN, OUT] = t.shape, r = A.shape[0];
    let worst = 0;
    for (let i = 0; i < IN; i++) {
      for (let o = 0; o < OUT; o++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B.data[o * r + k] * A.data[k * IN + i];
        const want = b[i * OUT + o] + scale * d;
        worst = Math.max(worst, Math.abs(got[i * OUT + o] - want));
        maxDelta = Math.max(maxDelta, Math.abs(scale * d));
      }
    }
    expect(worst, key).toBeLessThan(1e-6);
  }
  expect(targets).toBe(3); // c_attn of the 3 layers (GPT-2's PEFT default)
  expect(maxDelta).toBeGreaterThan(1e-5); // the step changed the weights: the check above is not base = base
}, 300_000);
