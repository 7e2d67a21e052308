// GPT-2 generation with the KV cache (src/model/gpt2/generate.ts) against full recomputation on the
// tiny fixture model with the fixture's (non-zero) LoRA weights: the adapted model generates.
// Recomputation = forwardLogits over the whole sequence each step, last row. The recompute model is
// planned for (1, n_positions) and the prefix is padded with token 0: attention is causal, so row
// i depends on tokens ≤ i only and the padding cannot change the row that is read.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import { Gpt2Decoder, generate } from '../../../src/model/gpt2/generate';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { argmax, topKIndices } from '../../../src/model/sampling';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';


/**
 * Cached vs recomputed last-row logits: both F32 on the same kernels, but the decode step sums the
 * attention over cached rows in another order and its matmuls have M = 1 (another workgroup shape).
 * Same bound as gpt2.test.ts's GPU-vs-GPU paths (|logit| ≤ ~0.7 here, a dozen chained reductions).
 * Measured on SwiftShader: max |diff| 0 at every step (bitwise equal); the bound is for hardware.
 */
const TOL_LOGITS: Tolerance = { atol: 1e-6, rtol: 1e-5 };


describe('GPT-2 generation with a KV cache vs full recomputation', () => {
  let ctx: GpuContext;
  let loaded: LoadedGpt2;
  let model: Gpt2LoraModel;
  let NP: number, V: number;
  // Greedy continuations of this random-weight model repeat tokens; these prompts give at least two
  // distinct greedy tokens ([1, 2, 3] → 5 ×10 then 38 ×3; [50] → 29, 29, then 93), and [50] is T0 = 1.
  const PROMPT = Uint32Array.from([1, 2, 3]);
  const PROMPTS = [PROMPT, Uint32Array.of(50)];

  /** Last-row logits of the sequence by full recomputation. */
  async function recompute(seq: readonly number[]): Promise<Float32Array> {
    const padded = new Uint32Array(NP);
    padded.set(seq);
    const all = await model.forwardLogits(padded);
    return all.slice((seq.length - 1) * V, seq.length * V);
  }

  beforeAll(async () => {
    ctx = await testContext();
    const fx = await loadFixture('gpt2_tiny', 'gpt2');
    loaded = fx.loaded;
    const meta = fx.meta;
    NP = loaded.config.n_positions;
    V = loaded.config.vocab_size;
    const r = Number(meta('lora_r'));
    model = await Gpt2LoraModel.create(ctx, loaded, {
      targetModules: meta('target_modules').split(','), r, scale: Number(meta('lora_alpha')) / r, B: 1, T: NP,
    });
    model.setLoraWeights(fx.lora());
  });

  it('cached last-row logits equal the recomputed last row at every step (prefill and each decode step)', async () => {
    const dec = await Gpt2Decoder.create(model);
    try {
      const seq = [...PROMPT];
      let cached = await dec.prefill(PROMPT);
      while (true) {
        const full = await recompute(seq);
        expectAllClose(cached, full, TOL_LOGITS, `logits after ${seq.length} tokens`);
        if (seq.length === NP) break;
        const next = argmax(full);
        seq.push(next);
        cached = await dec.step(next);
      }
      expect(dec.length).toBe(NP);
      await expect(dec.step(1)).rejects.toThrow(/full/);
    } finally {
      dec.destroy();
    }
  });

  it('greedy generation with the cache equals greedy full recomputation token for token; stops at n_positions', async () => {
    for (const prompt of PROMPTS) {
      const { ids, stopReason } = await generate(model, prompt, { maxNewTokens: 100 });
      expect(stopReason).toBe('n_positions');
      expect(ids).toHaveLength(NP - prompt.length);
      const seq = [...prompt];
      for (const id of ids) {
        const expected = argmax(await recompute(seq));
        expect(id, `prompt ${prompt.join(',')} token ${seq.length}`).toBe(expected);
        seq.push(expected);
      }
      expect(new Set(ids).size, 'greedy continuation changes token at least once').toBeGreaterThan(1);
    }
  });

  it('stops at maxNewTokens and at eos (the eos token included)', async () => {
    const { ids } = await generate(model, PROMPT, { maxNewTokens: 100 });
    expect(await generate(model, PROMPT, { maxNewTokens: 4 })).toEqual({ ids: ids.slice(0, 4), stopReason: 'max_tokens' });
    const eos = ids[ids.length - 1];
    const first = ids.indexOf(eos);
    expect(first).toBeGreaterThan(0); // a later token, so the stop is not trivially at the first step
    expect(await generate(model, PROMPT, { maxNewTokens: 100, eosTokenId: eos })).toEqual({ ids: ids.slice(0, first + 1), stopReason: 'eos' });
    // When eos and maxNewTokens coincide, eos is reported.
    expect((await generate(model, PROMPT, { maxNewTokens: first + 1, eosTokenId: eos })).stopReason).toBe('eos');
    expect(await generate(model, PROMPT, { maxNewTokens: 0 })).toEqual({ ids: [], stopReason: 'max_tokens' });
  });

  it('temperature/top-k sampling repeats for a fixed seed and only picks among the recomputed top k', async () => {
    const o = { maxNewTokens: 8, temperature: 1.5, topK: 5, seed: 7 };
    const a = await generate(model, PROMPT, o);
    expect(a.stopReason).toBe('max_tokens');
    expect(await generate(model, PROMPT, o)).toEqual(a);
    expect((await generate(model, PROMPT, { ...o, seed: 8 })).ids).not.toEqual(a.ids);
    const seq = [...PROMPT];
    for (const id of a.ids) {
      const full = await recompute(seq);
      // Allow a tie within the logits tolerance at the k-th place (cached and recomputed rows differ by ≤ TOL).
      const kth = full[topKIndices(full, o.topK)[o.topK - 1]];
      expect(full[id], `token ${seq.length} = ${id} outside the top ${o.topK}`).toBeGreaterThanOrEqual(kth - 1e-5);
      seq.push(id);
    }
    // Sampling really samples: not every pick is the greedy one.
    const greedy = (await generate(model, PROMPT, { maxNewTokens: 8 })).ids;
    expect(a.ids).not.toEqual(greedy);
  });

  it('refuses prompts beyond n_positions and out-of-vocabulary ids; a full-length prompt generates nothing', async () => {
    await expect(generate(model, new Uint32Array(NP + 1), { maxNewTokens: 1 })).rejects.toThrow(/n_positions/);
    await expect(generate(model, Uint32Array.of(1, V), { maxNewTokens: 1 })).rejects.toThrow();
    expect(await generate(model, new Uint32Array(NP), { maxNewTokens: 3 })).toEqual({ ids: [], stopReason: 'n_positions' });
  });
});
