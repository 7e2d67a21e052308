// Issue 13 "Done when", CLI side: real-size checkpoints through the real bin/lorasc.mjs, as a user runs it —
// a GPT-2 124M layout (F32, 548 MB, the real 50,257-token BPE) and a Qwen3 layout in BF16 with the real
// 151,936-token vocabulary (2 layers of Qwen3-0.6B's widths, 374 MB; its embedding is 622 MB in F32, above a
// 128 MiB binding), both built by test/fixtures/gen_real_size.py (test/helpers/realSize.ts). For each:
//   * GPT-2: `lorasc eval --tokens --logits-out`: the loss and logits equal the float64 PyTorch model on the
//     stored weights to 1e-4 relative (check_cli.py's bound);
//   * `lorasc train` (LoRA, T 16; GPT-2 2 steps, Qwen3 1) writes merged/ and adapter/; in float64 PyTorch, the
//     merged model's logits equal base + the PEFT adapter applied by hand from the equations, to 1e-6 of
//     max|logits| (one F32 rounding of each merged weight: check_llama_export.py's bound), and the adapter moves
//     the logits.
// One PyTorch call per model reads each checkpoint once (the suite's budget:
// test/fixtures/README.md#real-size-time). Each step's wall time is printed, never asserted.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLorasc } from '../helpers/lorasc';
import { type RealSizeCheckpoints, realSizeCheckpoints, realSizePython } from '../helpers/realSize';

const ROOT = resolve(import.meta.dirname, '../..');
const REL = 1e-4;
const EXPORT_REL = 1e-6;
const MIN = 60_000;
const work = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-real-size-cli-')));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let ckpt: RealSizeCheckpoints;
beforeAll(async () => {
  const t0 = Date.now();
  ckpt = await realSizeCheckpoints();
  console.log(`[real-size cli] checkpoints ready in ${((Date.now() - t0) / 1000).toFixed(0)} s: GPT-2 ${ckpt.bytes.gpt2} B, Qwen3 BF16 ${ckpt.bytes.qwen} B`);
}, 15 * MIN);

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    console.log(`[real-size cli] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Deterministic token ids below `v` (a small LCG: the reference reads the same file). */
function ids(n: number, v: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) % v);
}

// Training text: the demo's fortunes (English, so both real tokenizers give ordinary ids).
const TEXT = readFileSync(join(ROOT, 'public/demo/fortunes-finetune.txt'), 'utf8').slice(0, 4000);

/** `lorasc train` (LoRA rank 4, T 16, batch 1) for `steps` steps into `out`; exits 0 with merged/ and adapter/. */
async function trainAndExport(c: { name: string; dir: () => string }, steps: number, out: string): Promise<void> {
  const data = join(work, `${c.name}_train.txt`);
  writeFileSync(data, TEXT);
  const r = await timed(`${c.name} train ${steps} step(s) + export`, () => runLorasc(work, ['train', '--model', c.dir(), '--data', data, '--method', 'lora',
    '--max-steps', String(steps), '--seq-len', '16', '--batch', '1', '--rank', '4', '--lora-alpha', '8', '--lr', '0.01', '--schedule', 'constant',
    '--warmup-ratio', '0', '--val-fraction', '0', '--lora-dropout', '0', '--json', '--out', out], 20 * MIN));
  expect(r.code, r.stderr).toBe(0);
  expect(existsSync(join(out, 'adapter/adapter_model.safetensors')), 'adapter/adapter_model.safetensors').toBe(true);
  expect(existsSync(join(out, 'merged/config.json')), 'merged/config.json').toBe(true);
}

/** Float64 PyTorch on both exports (and, given `logits`, the eval of the same ids), reading each file once. */
async function checkExports(c: { name: string; dir: () => string }, out: string, tokens: string, logits?: string): Promise<Record<string, unknown>> {
  const ref = await timed(`${c.name} PyTorch check`, async () =>
    realSizePython(['export', c.dir(), join(out, 'adapter'), join(out, 'merged'), tokens, ...(logits ? [logits] : [])], 15 * MIN));
  console.log(`[real-size cli] ${c.name}: merged vs base + adapter ${(ref.merged_vs_adapter_rel as number).toExponential(2)}, adapter moves logits ${(ref.adapter_effect_rel as number).toExponential(2)}; loss base ${ref.base_loss}, adapted ${ref.adapter_loss}, merged ${ref.merged_loss}`);
  expect(ref.adapter_effect_rel as number).toBeGreaterThan(1e-4);
  expect(ref.merged_vs_adapter_rel as number).toBeLessThanOrEqual(EXPORT_REL);
  return ref;
}

describe('real-size checkpoints through lorasc vs float64 PyTorch', () => {
  const gpt2 = { name: 'gpt2', dir: () => ckpt.gpt2 };
  const qwen = { name: 'qwen3', dir: () => ckpt.qwen };

  it('GPT-2 124M layout, F32: eval within 1e-4 of float64; train 2 LoRA steps, export merged + adapter; PyTorch agrees with both', async () => {
    const tokens = join(work, 'gpt2_ids.json');
    writeFileSync(tokens, JSON.stringify(ids(24, 50_257, 7)));
    const logits = join(work, 'gpt2_logits.safetensors');
    const r = await timed('gpt2 eval', () => runLorasc(work, ['eval', '--model', ckpt.gpt2, '--tokens', tokens, '--logits-out', logits, '--json'], 10 * MIN));
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { loss: number };
    const out = join(work, 'gpt2_run');
    await trainAndExport(gpt2, 2, out);
    const ev = (await checkExports(gpt2, out, tokens, logits)).eval as { loss: number; logits_rel: number; error?: string };
    expect(ev, 'the eval check of the PyTorch call').toBeDefined();
    expect(ev.error).toBeUndefined();
    const lossRel = Math.abs(got.loss - ev.loss) / ev.loss;
    console.log(`[real-size cli] gpt2: eval loss ${got.loss} vs float64 ${ev.loss} (rel ${lossRel.toExponential(2)}), logits rel ${ev.logits_rel.toExponential(2)}`);
    expect(lossRel).toBeLessThanOrEqual(REL);
    expect(ev.logits_rel).toBeLessThanOrEqual(REL);
  }, 40 * MIN);

  // Its eval on the GPU (BF16 packed, vocabulary split) is held to float64 by the small BF16 fixtures
  // (test/gpu/model/llama_fixtures, vocab_split); here: the real vocabulary loads, trains and exports.
  it('Qwen3 layout, BF16, 151,936-token vocabulary: train 1 LoRA step, export merged + adapter; PyTorch agrees with both', async () => {
    const tokens = join(work, 'qwen3_ids.json');
    writeFileSync(tokens, JSON.stringify(ids(24, 151_643, 7)));
    const out = join(work, 'qwen3_run');
    await trainAndExport(qwen, 1, out);
    await checkExports(qwen, out, tokens);
  }, 40 * MIN);
});
