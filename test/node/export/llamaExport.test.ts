// Exports of a loaded Llama-family model (docs/formats.md#llama-export), on the CPU: the merged folder
// re-reads with the loaded names, `model.` prefix, buffers and F32 values; the PEFT adapter re-reads with
// PEFT's keys; merged = base + adapter computed here independently in float64 (nn.Linear [out, in]: no
// transpose; DoRA: one norm per output row; a cascade: the rank-T·r stack). The committed files of
// test/fixtures/llama_io/ (checked in PyTorch by test/fixtures/check_llama_export.py) must be exactly what
// this code writes. Regenerate: LLAMA_IO_REGEN=1 npx vitest run --project node test/node/export/llamaExport.test.ts
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LoadedLlama, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { readAdapterDir } from '../../../src/io/peft';
import { buildCase, type BuiltCase, CASE_NAMES, type CaseName } from './llamaExportCases';

const DIR = join(__dirname, '../../fixtures/llama_io');
const REGEN = process.env.LLAMA_IO_REGEN === '1';

function sub(files: Map<string, Uint8Array>, folder: string): Map<string, Uint8Array> {
  return new Map([...files].filter(([k]) => k.startsWith(`${folder}/`)).map(([k, v]) => [k.slice(folder.length + 1), v]));
}

function committed(name: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (rel: string) => {
    const abs = join(DIR, name, rel);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.set(r, new Uint8Array(readFileSync(join(abs, e.name))));
    }
  };
  if (existsSync(join(DIR, name))) walk('');
  return out;
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** Independent float64 merge of one nn.Linear: W [OUT, IN] + s·B [OUT, r] @ A [r, IN]; DoRA rescales rows. */
function expectedMerge(W: Float32Array, A: Float32Array, B: Float32Array, IN: number, OUT: number, r: number, s: number, m?: Float32Array): Float64Array {
  const V = new Float64Array(OUT * IN);
  for (let o = 0; o < OUT; o++) {
    for (let i = 0; i < IN; i++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += B[o * r + k] * A[k * IN + i];
      V[o * IN + i] = W[o * IN + i] + s * d;
    }
  }
  if (!m) return V;
  for (let o = 0; o < OUT; o++) {
    let n = 0;
    for (let i = 0; i < IN; i++) n += V[o * IN + i] ** 2;
    const f = m[o] / Math.sqrt(n);
    for (let i = 0; i < IN; i++) V[o * IN + i] *= f;
  }
  return V;
}

const cases = new Map<CaseName, Promise<BuiltCase>>();
const get = (name: CaseName) => {
  if (!cases.has(name)) cases.set(name, buildCase(name));
  return cases.get(name) as Promise<BuiltCase>;
};

describe.each(CASE_NAMES)('Llama-family export %s', (name) => {
  it('the committed test/fixtures/llama_io files are exactly what the exporter writes today', async () => {
    const { files } = await get(name);
    if (REGEN) {
      rmSync(join(DIR, name), { recursive: true, force: true });
      for (const [rel, bytes] of files) {
        mkdirSync(dirname(join(DIR, name, rel)), { recursive: true });
        writeFileSync(join(DIR, name, rel), bytes);
      }
    }
    const have = committed(name);
    const regen = 'LLAMA_IO_REGEN=1 npx vitest run --project node test/node/export/llamaExport.test.ts';
    expect([...have.keys()].sort(), `stale fixture: run ${regen}`).toEqual([...files.keys()].sort());
    for (const [rel, bytes] of files) expect(Buffer.compare(Buffer.from(have.get(rel) as Uint8Array), Buffer.from(bytes)), `${rel} is stale: run ${regen}`).toBe(0);
  });

  it('merged folder: the loaded names and prefix, buffers as loaded, F32, config carried with torch_dtype float32', async () => {
    const { files, loaded, result } = await get(name);
    const m = await loadModelDir(sourceFromMap(sub(files, 'merged')));
    if (m.kind !== 'llama') throw new Error('merged is not a llama');
    expect(m.prefix).toBe('model.');
    expect([...m.originalKeys]).toEqual([...loaded.originalKeys]);
    expect([...m.passthrough.keys()]).toEqual([...loaded.passthrough.keys()]);
    const byWeight = new Map([...result.merged].map(([path, w]) => [`${path.slice('model.'.length)}.weight`, w]));
    for (const [n, t] of m.tensors) {
      expect(t.dtype, n).toBe('F32');
      const want = byWeight.get(n) ?? loaded.tensors.get(n)?.data;
      expect(Array.from(t.data), n).toEqual(Array.from(want ?? []));
    }
    if (m.passthrough.has('lm_head.weight')) {
      expect(Array.from(m.passthrough.get('lm_head.weight')?.data ?? [])).toEqual(Array.from(m.tensors.get('embed_tokens.weight')?.data ?? []));
    }
    const cfgIn = JSON.parse(text(sub(files, 'base').get('config.json')));
    const cfgOut = JSON.parse(text(sub(files, 'merged').get('config.json')));
    expect(cfgOut).toEqual({ ...cfgIn, torch_dtype: 'float32' });
    expect(Object.keys(cfgOut)).toEqual(Object.keys(cfgIn));
  });

  it('adapter folder: PEFT keys base_model.model.model.layers.…, causal LM, and W0 + adapter = merged (float64, [out, in])', async () => {
    const { files, loaded } = await get(name);
    const adapter = await readAdapterDir(sourceFromMap(sub(files, 'adapter')), loaded);
    const cfg = JSON.parse(text(sub(files, 'adapter').get('adapter_config.json')));
    expect([cfg.task_type, cfg.fan_in_fan_out, cfg.base_model_name_or_path]).toEqual(['CAUSAL_LM', false, `lorasc-test/${name}`]);
    if (name === 'qwen2_cascade') expect([cfg.r, cfg.lora_alpha, cfg.use_rslora, adapter.scale]).toEqual([6, 6, false, 1]);
    const keys = [...sub(files, 'adapter').keys()];
    expect(keys).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const merged = (await loadModelDir(sourceFromMap(sub(files, 'merged')))) as LoadedLlama;
    let worst = 0;
    for (const mod of adapter.modules) {
      expect(mod.path).toMatch(/^model\.layers\.[01]\.(self_attn|mlp)\./);
      const W = loaded.tensors.get(mod.weight)?.data as Float32Array;
      const want = expectedMerge(W, mod.A, mod.B, mod.IN, mod.OUT, mod.r, adapter.scale, mod.magnitude);
      const got = merged.tensors.get(mod.weight)?.data as Float32Array;
      let diff = 0;
      for (let k = 0; k < got.length; k++) diff = Math.max(diff, Math.abs(got[k] - want[k]));
      worst = Math.max(worst, diff);
    }
    // One F32 rounding of values below 1 (a cascade: one per iteration).
    expect(worst).toBeLessThan(1e-6);
    expect(adapter.modules.length).toBe({ qwen3_lora: 14, llama_dora: 10, qwen2_cascade: 6 }[name]);
    if (name === 'llama_dora') expect(adapter.modules.every((mod) => mod.magnitude?.length === mod.OUT)).toBe(true);
  });
});
