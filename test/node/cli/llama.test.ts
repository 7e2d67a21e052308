// The lorasc CLI on a tiny Llama-family checkpoint built outside the engine (a Qwen3 with GQA, head_dim ≠
// hidden/heads, q/k norms, BF16 storage, sharded), as a user runs it: `eval --tokens` equals the Float64
// reference loss (src/model/llama/reference.ts) to 1e-4 relative, `train` runs 2 steps on text through the
// folder's tokenizer and writes the merged model and the PEFT adapter, and `export` merges that adapter
// back into the base with its parity figure. Runs the real bin/lorasc.mjs (Chromium, the GPU engine).
import { copyFileSync, existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelDir } from '../../../src/io/hfModel';
import { llamaSpec } from '../../../src/model/families/llama';
import { referenceLlamaLoss } from '../../../src/model/llama/reference';
import { randomInts } from '../../helpers/random';
import { source } from '../hfModel/fixtures';
import { llamaConfig, llamaFolder, llamaTensors, shapeOf } from '../hfModel/llamaFixtures';
import { runLorasc } from '../../helpers/lorasc';

const ROOT = resolve(import.meta.dirname, '../../..');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-llama-cli-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** V = the GPT-2 demo tokenizer's 1025 ids, so its tokenizer.json serves the text path. */
const V = 1025;
const shape = shapeOf('qwen3', { V, NKV: 1 });
const files = llamaFolder(llamaConfig('qwen3', { vocab_size: V, eos_token_id: 1024, bos_token_id: null }), llamaTensors(shape), 'BF16', 2);
const model = join(base, 'qwen3-tiny');
mkdirSync(model);
for (const [name, data] of files) writeFileSync(join(model, name), data);
copyFileSync(join(ROOT, 'public/demo/gpt2-fortunes/tokenizer.json'), join(model, 'tokenizer.json'));

const lorasc = (args: string[], timeoutMs: number) => runLorasc(base, args, timeoutMs);

describe('lorasc on a Llama-family folder (Qwen3, BF16, 2 shards)', () => {
  it('eval --tokens matches the Float64 reference loss to 1e-4 relative', async () => {
    const ids = Array.from(randomInts(29, 77, V));
    writeFileSync(join(base, 'ids.json'), JSON.stringify(ids));
    const r = await lorasc(['eval', '--model', model, '--tokens', join(base, 'ids.json'), '--json'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const loaded = await loadModelDir(source(files));
    if (loaded.kind !== 'llama') throw new Error(`expected a llama, got ${loaded.kind}`);
    const labels = [...ids.slice(1), -100];
    const want = referenceLlamaLoss(llamaSpec(loaded), loaded.tensors, V, ids, labels, 1, ids.length);
    expect(got.predicted).toBe(ids.length - 1);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-4);
  }, 300_000);

  it('generate continues a prompt (KV-cached decoding) and prints the text', async () => {
    const r = await lorasc(['generate', '--model', model, '--prompt', 'Fortune favours', '--max-new-tokens', '5', '--temperature', '0', '--json'], 240_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.text.startsWith('Fortune favours')).toBe(true);
    expect(out.newTokens).toBeGreaterThan(0);
    expect(out.newTokens).toBeLessThanOrEqual(5);
    expect(['max_tokens', 'eos']).toContain(out.stopReason);
  }, 300_000);

  it('train 2 steps on text writes merged/ and adapter/; export merges the adapter back with its parity', async () => {
    const rows = join(base, 'notes.txt');
    writeFileSync(rows, Array.from({ length: 16 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n'));
    const out = join(base, 'run');
    const t = await lorasc(['train', '--model', model, '--data', rows, '--method', 'lora', '--max-steps', '2', '--seq-len', '12', '--batch', '2', '--out', out, '--json'], 300_000);
    expect(t.code, t.stderr).toBe(0);
    const summary = JSON.parse(t.stdout);
    expect(summary.steps).toBe(2);
    expect(Number.isFinite(summary.final_train_loss)).toBe(true);
    expect(existsSync(join(out, 'merged', 'config.json'))).toBe(true);
    expect(existsSync(join(out, 'adapter', 'adapter_model.safetensors'))).toBe(true);
    const e = await lorasc(['export', '--model', model, '--adapter', join(out, 'adapter'), '--out', join(base, 'exported'), '--json'], 300_000);
    expect(e.code, e.stderr).toBe(0);
    const parity = JSON.parse(e.stdout).parity;
    expect(parity.count).toBeGreaterThan(0);
    expect(parity.max_abs).toBeLessThan(1e-4);
    expect(existsSync(join(base, 'exported', 'config.json'))).toBe(true);
  }, 600_000);
});
