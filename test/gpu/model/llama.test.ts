// LlamaLoraModel (src/model/llama/model.ts) against the Float64 CPU reference (src/model/llama/reference.ts):
// logits and loss, tied and untied heads; every LoRA gradient of a whole step (head and final norm
// included) against central finite differences of the reference loss; KV-cached generation equal to
// full recomputation, stopping at any EOS id; the sliding-window and length refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { argmax } from '../../../src/model/sampling';
import { LlamaDecoder, generateLlama } from '../../../src/model/llama/generate';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import { type ReferenceAdapter, referenceLlamaLogits, referenceLlamaLoss } from '../../../src/model/llama/reference';
import { expectAllClose } from '../../helpers/allclose';
import { numericGrad } from '../../helpers/finiteDiff';
import { testContext } from '../../helpers/gpu';
import { randomInts, uniformF32 } from '../../helpers/random';
import { type TinyLlama, sourceOf, tinyLlama } from './llamaTiny';

/** Random nonzero B for every slot, so the adapters carry signal; returns every trainable value. */
async function randomAdapter(model: LlamaLoraModel, seed: number): Promise<Map<string, Float32Array>> {
  const values = await model.readLoraWeights();
  for (const s of model.parts.slots) values.set(s.b.name, uniformF32(s.b.numel, seed + s.index, -0.5, 0.5));
  model.setLoraWeights(values);
  return values;
}

function referenceAdapters(model: LlamaLoraModel, values: ReadonlyMap<string, ArrayLike<number>>): Map<string, ReferenceAdapter> {
  return new Map(model.parts.slots.map((s) => [s.path, {
    A: values.get(s.a.name) as ArrayLike<number>, B: values.get(s.b.name) as ArrayLike<number>, R: s.R, scale: s.scale,
    ...(s.m ? { m: values.get(s.m.name) as ArrayLike<number> } : {}),
  }]));
}

/** F32 GPU vs Float64 reference through two blocks and the head: logits O(1), a few e-6 apart. */
const LOGITS_TOL = { atol: 3e-5, rtol: 1e-4 };

describe('LlamaLoraModel vs the Float64 reference', () => {
  let ctx: GpuContext;
  beforeAll(async () => { ctx = await testContext(); });

  const models: [string, () => TinyLlama][] = [
    ['tied, GQA 2, Qwen3 q/k norms, HS ≠ C/NH', () => tinyLlama({ model_type: 'qwen3', hidden_size: 10, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, qkNorm: true })],
    ['untied, GQA 3, q/k/v biases (Qwen2), llama3 rope', () => tinyLlama({
      model_type: 'qwen2', tied: false, hidden_size: 12, num_attention_heads: 3, num_key_value_heads: 1, head_dim: 6, qkvBias: true, rope_theta: 100,
      rope_scaling: { rope_type: 'llama3', factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 },
    })],
  ];
  for (const [name, make] of models) {
    it(`logits and loss, ${name}, LoRA on all seven`, async () => {
      const m = make();
      const B = 2, T = 5;
      const model = await LlamaLoraModel.create(ctx, sourceOf(m), { targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], r: 2, scale: 2, B, T, seed: 3 });
      try {
        const values = await randomAdapter(model, 40);
        const ids = randomInts(B * T, 9, m.V);
        const labels = Int32Array.from(randomInts(B * T, 10, m.V));
        labels[3] = -100;
        const ad = referenceAdapters(model, values);
        expectAllClose(await model.forwardLogits(ids), referenceLlamaLogits(m.spec, m.tensors, m.V, ids, B, T, ad), LOGITS_TOL, 'logits');
        const { loss, count } = await model.evalLoss(ids, labels);
        const want = referenceLlamaLoss(m.spec, m.tensors, m.V, ids, labels, B, T, ad);
        expect(count).toBe(want.count);
        expect(Math.abs(loss - want.loss)).toBeLessThan(1e-5 * want.loss);
      } finally {
        model.destroy();
      }
    });
  }

  it('every LoRA gradient of a whole step (untied head, final norm) matches finite differences of the reference loss', async () => {
    const m = tinyLlama({ tied: false, hidden_size: 8, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 6, intermediate_size: 6, oBias: true, V: 13 });
    const B = 1, T = 4;
    const model = await LlamaLoraModel.create(ctx, sourceOf(m), { targetModules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'], r: 2, scale: 1, B, T, seed: 5 });
    try {
      const values = await randomAdapter(model, 70);
      const ids = randomInts(B * T, 1, m.V);
      const labels = Int32Array.from(randomInts(B * T, 2, m.V));
      labels[0] = -100;
      await model.step(ids, labels);
      const grads = await model.readGrads();
      const f64 = new Map([...values].map(([k, v]) => [k, Float64Array.from(v)]));
      const ad = referenceAdapters(model, f64);
      for (const [name, v] of f64) {
        const fd = numericGrad(() => referenceLlamaLoss(m.spec, m.tensors, m.V, ids, labels, B, T, ad).loss, v, 1e-5);
        expectAllClose(grads.get(name) as Float32Array, fd, { atol: 1e-5, rtol: 1e-3 }, name);
        expect(Math.max(...fd.map(Math.abs)), `${name} has a gradient`).toBeGreaterThan(1e-4);
      }
    } finally {
      model.destroy();
    }
  });

  it('KV-cached decode equals full recomputation at every step (GQA 2, q/k norms, untied); greedy generation matches token for token', async () => {
    const m = tinyLlama({ model_type: 'qwen3', tied: false, hidden_size: 10, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, qkNorm: true, qkvBias: true, V: 17 });
    // The engine's own plan is one position (as the CLI and the studio build it for generation): the decoder's
    // prefill and steps must not depend on it.
    const model = await LlamaLoraModel.create(ctx, sourceOf(m), { targetModules: ['q_proj', 'k_proj', 'down_proj'], r: 2, scale: 2, B: 1, T: 1, seed: 1 });
    try {
      const ad = referenceAdapters(model, await randomAdapter(model, 90));
      const prompt = randomInts(3, 4, m.V);
      const recompute = (ids: number[]) => referenceLlamaLogits(m.spec, m.tensors, m.V, ids, 1, ids.length, ad).slice((ids.length - 1) * m.V);
      const decoder = await LlamaDecoder.create(model, 9);
      const seq = [...prompt];
      try {
        let logits = await decoder.prefill(prompt);
        for (let step = 0; step < 6; step++) {
          expectAllClose(logits, recompute(seq), LOGITS_TOL, `last-row logits at length ${seq.length}`);
          const token = (seq.length * 5 + 3) % m.V; // a fixed feed, not the argmax: every token id path is exercised
          seq.push(token);
          logits = await decoder.step(token);
        }
        expectAllClose(logits, recompute(seq), LOGITS_TOL, `last-row logits at length ${seq.length}`);
      } finally {
        decoder.destroy();
      }
      const greedy = await generateLlama(model, prompt, { maxNewTokens: 5, temperature: 0 });
      const want: number[] = [];
      for (let i = 0; i < 5; i++) want.push(argmax(recompute([...prompt, ...want])));
      expect(greedy).toEqual({ ids: want, stopReason: 'max_tokens' });
      // Any EOS id stops it, the EOS token included.
      const stop = await generateLlama(model, prompt, { maxNewTokens: 5, temperature: 0, eosTokenIds: [m.V - 1, want[2]] });
      expect(stop.ids).toEqual(want.slice(0, want.indexOf(want[2]) + 1));
      expect(stop.stopReason).toBe('eos');
    } finally {
      model.destroy();
    }
  });

  it('refuses a sequence longer than a sliding window in force or than max_position_embeddings, naming the key', async () => {
    const m = tinyLlama({ model_type: 'mistral' });
    await expect(LlamaLoraModel.create(ctx, sourceOf(m, { slidingWindow: 4 }), { targetModules: ['q_proj'], r: 1, scale: 1, B: 1, T: 5 }))
      .rejects.toThrow(/sliding_window=4/);
    await expect(LlamaLoraModel.create(ctx, sourceOf(m, { max_position_embeddings: 3 }), { targetModules: ['q_proj'], r: 1, scale: 1, B: 1, T: 5 }))
      .rejects.toThrow(/max_position_embeddings=3/);
  });
});
