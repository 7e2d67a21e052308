// Issue 13 "Done when", CLI side: real-size checkpoints through the real bin/lorasc.mjs, as a user runs it —
// a GPT-2 124M layout (F32, 548 MB, the real 50,257-token BPE) and a Qwen3 layout in BF16 with the real
// 151,936-token vocabulary (2 layers of Qwen3-0.6B's widths, 374 MB; its embedding is 622 MB in F32, above a
// 128 MiB binding), both built by test/fixtures/gen_real_size.py (test/helpers/realSize.ts). For each:
//   * `lorasc eval --tokens --logits-out`: the loss and logits equal the float64 PyTorch model on the stored
//     weights (BF16 widened exactly) to 1e-4 relative (check_cli.py's bound);
//   * `lorasc train --max-steps 2` (LoRA, T 16) writes merged/ and adapter/; in float64 PyTorch, the merged
//     model's logits equal base + the PEFT adapter applied by hand from the equations, to 1e-6 of max|logits|
//     (one F32 rounding of each merged weight: check_llama_export.py's bound), and the adapter moves the logits.
// Each step's wall time is printed (the suite's budget), never asserted.
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

const CASES = [
  { name: 'gpt2', what: 'GPT-2 124M layout, F32', dir: () => ckpt.gpt2, vocab: 50_257 },
  { name: 'qwen3', what: 'Qwen3 layout, BF16, 151,936-token vocabulary', dir: () => ckpt.qwen, vocab: 151_643 },
] as const;

describe('real-size checkpoints through lorasc vs float64 PyTorch', () => {
  for (const c of CASES) {
    const tokens = join(work, `${c.name}_ids.json`);

    it(`${c.name} (${c.what}): eval loss and logits within 1e-4 of float64`, async () => {
      writeFileSync(tokens, JSON.stringify(ids(24, c.vocab, 7)));
      const out = join(work, `${c.name}_logits.safetensors`);
      const r = await timed(`${c.name} eval`, () => runLorasc(work, ['eval', '--model', c.dir(), '--tokens', tokens, '--logits-out', out, '--json'], 10 * MIN));
      expect(r.code, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as { loss: number };
      const ref = await timed(`${c.name} eval reference (python)`, async () => realSizePython(['eval', c.dir(), tokens, out]));
      expect(ref.error).toBeUndefined();
      const lossRel = Math.abs(got.loss - (ref.loss as number)) / (ref.loss as number);
      console.log(`[real-size cli] ${c.name}: loss ${got.loss} vs float64 ${ref.loss} (rel ${lossRel.toExponential(2)}), logits rel ${(ref.logits_rel as number).toExponential(2)}`);
      expect(lossRel).toBeLessThanOrEqual(REL);
      expect(ref.logits_rel as number).toBeLessThanOrEqual(REL);
    }, 20 * MIN);

    it(`${c.name} (${c.what}): train 2 LoRA steps, export merged + adapter; PyTorch agrees with both`, async () => {
      if (!existsSync(tokens)) writeFileSync(tokens, JSON.stringify(ids(24, c.vocab, 7)));
      const data = join(work, `${c.name}_train.txt`);
      writeFileSync(data, TEXT);
      const out = join(work, `${c.name}_run`);
      const r = await timed(`${c.name} train 2 steps + export`, () => runLorasc(work, ['train', '--model', c.dir(), '--data', data, '--method', 'lora',
        '--max-steps', '2', '--seq-len', '16', '--batch', '1', '--rank', '4', '--lora-alpha', '8', '--lr', '0.01', '--schedule', 'constant',
        '--warmup-ratio', '0', '--val-fraction', '0', '--lora-dropout', '0', '--json', '--out', out], 20 * MIN));
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(out, 'adapter/adapter_model.safetensors')), 'adapter/adapter_model.safetensors').toBe(true);
      expect(existsSync(join(out, 'merged/config.json')), 'merged/config.json').toBe(true);
      const ref = await timed(`${c.name} export reference (python)`, async () =>
        realSizePython(['export', c.dir(), join(out, 'adapter'), join(out, 'merged'), tokens], 15 * MIN));
      console.log(`[real-size cli] ${c.name}: merged vs base + adapter ${(ref.merged_vs_adapter_rel as number).toExponential(2)}, adapter moves logits ${(ref.adapter_effect_rel as number).toExponential(2)}; loss base ${ref.base_loss}, adapted ${ref.adapter_loss}, merged ${ref.merged_loss}`);
      expect(ref.adapter_effect_rel as number).toBeGreaterThan(1e-4);
      expect(ref.merged_vs_adapter_rel as number).toBeLessThanOrEqual(EXPORT_REL);
    }, 40 * MIN);
  }
});
