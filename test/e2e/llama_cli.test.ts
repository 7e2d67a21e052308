// `lorasc eval --tokens` on Llama-family checkpoints built outside the project (issue 12, "Done when"): the
// four HF folders of test/fixtures/gen_llama_fixtures.py — Llama F32, Mistral BF16 in 2 shards + index,
// Qwen2 F16 (q/k/v biases, tied), Qwen3 BF16 (q/k norms, tied) — through the real bin/lorasc.mjs in a child
// process, as a user runs it. The float64 PyTorch reference (state file: cli_input_ids, cli_logits,
// cli_loss; the base model on one window of 29 ≤ max_position_embeddings tokens, mean next-token loss)
// must agree to 1e-4 relative: the loss, and the logits as max|Δ| / max|reference| (check_cli.py's figure).
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors';
import { runLorasc } from '../helpers/lorasc';

const ROOT = resolve(import.meta.dirname, '../..');
const REGEN = '/usr/bin/python3 test/fixtures/gen_llama_fixtures.py';
/** The bound: relative loss error, and max|Δlogit| / max|logit|. */
const REL = 1e-4;
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-llama-cli-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const lorasc = (args: string[], timeoutMs: number) => runLorasc(base, args, timeoutMs);

const CASES = [
  ['llama', 'LlamaForCausalLM, F32, GQA 2, llama3 rope scaling, untied'],
  ['mistral', 'MistralForCausalLM, BF16 in 2 shards + index, MQA, head_dim 12 ≠ 32/4, untied'],
  ['qwen2', 'Qwen2ForCausalLM, F16, GQA 3, q/k/v biases, linear rope scaling, tied'],
  ['qwen3', 'Qwen3ForCausalLM, BF16, q/k norms, head_dim 12 ≠ 32/4, tied'],
] as const;

describe('lorasc eval on Llama-family checkpoints built outside the project vs float64 PyTorch', () => {
  for (const [fam, what] of CASES) {
    it(`${fam} (${what}): loss and logits within 1e-4 relative`, async () => {
      const state = readSafetensors(readFileSync(join(ROOT, `test/fixtures/llama_states/${fam}_state.safetensors`)), `${fam}_state.safetensors`);
      if (state.metadata?.get('magic') !== 'lorasc-fixture') throw new Error(`${fam}_state.safetensors is stale; regenerate with: ${REGEN}`);
      const ids = [...state.get('cli_input_ids').data];
      const tokens = join(base, `${fam}.json`);
      writeFileSync(tokens, JSON.stringify(ids));
      const out = join(base, `${fam}_logits.safetensors`);
      const r = await lorasc(['eval', '--model', join(ROOT, `test/fixtures/llama_${fam}_tiny`), '--tokens', tokens, '--logits-out', out, '--json'], 240_000);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as { loss: number; tokens: number };
      const refLoss = state.get('cli_loss').data[0];
      const lossRel = Math.abs(res.loss - refLoss) / Math.abs(refLoss);
      const got = readSafetensors(readFileSync(out), 'logits').get('logits');
      const ref = state.get('cli_logits');
      expect(got.shape).toEqual(ref.shape);
      let diff = 0, scale = 0;
      for (let i = 0; i < ref.data.length; i++) {
        diff = Math.max(diff, Math.abs(got.data[i] - ref.data[i]));
        scale = Math.max(scale, Math.abs(ref.data[i]));
      }
      console.log(`[llama cli] ${fam}: loss ${res.loss} vs ${refLoss} (rel ${lossRel.toExponential(2)}), logits rel ${(diff / scale).toExponential(2)}, ${ids.length} tokens`);
      expect(lossRel).toBeLessThanOrEqual(REL);
      expect(diff / scale).toBeLessThanOrEqual(REL);
    }, 300_000);
  }
});
