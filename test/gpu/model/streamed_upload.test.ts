// Streamed weights straight to the GPU (issue 13 item 1): a streamed load reads only headers, and engine
// creation reads each canonical tensor once, uploads it and moves on, so JS never holds more than one
// tensor of the model. Proved by counting, not timing: every tensor's read is followed by its upload
// before the next read (the bytes read but not yet uploaded never exceed the largest tensor), no tensor
// is kept resident, and the engine equals the one built from the same files in memory, exactly.
import { describe, expect, it } from 'vitest';
import { type LoadedGpt2, type LoadedLlama, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import { testContext } from '../../helpers/gpu';
import { expectOneTensorAtATime, fixtureFiles, streamedBuild } from '../../helpers/streamedBuild';

describe('streamed load uploads tensor by tensor', () => {
  it('GPT-2 with DoRA: one tensor at a time, the same logits, loss and initial magnitudes as in memory', async () => {
    const ctx = await testContext();
    const files = await fixtureFiles('gpt2_tiny');
    const o = { targetModules: ['c_attn', 'c_fc'], r: 2, scale: 2, B: 1, T: 6, seed: 3, useDora: true };
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedGpt2;
    const ref = await Gpt2LoraModel.create(ctx, memory, o);
    const s = await streamedBuild(ctx, files, (m) => Gpt2LoraModel.create(ctx, m as LoadedGpt2, o));
    try {
      expectOneTensorAtATime(s.loaded, files, s);
      const V = memory.config.vocab_size;
      const ids = Uint32Array.from({ length: 6 }, (_, i) => (i * 11 + 2) % V);
      const labels = Int32Array.from({ length: 6 }, (_, i) => (i * 5 + 1) % V);
      expect(await s.engine.readLoraWeights()).toEqual(await ref.readLoraWeights()); // DoRA m = base row norms
      expect(await s.engine.forwardLogits(ids)).toEqual(await ref.forwardLogits(ids));
      expect((await s.engine.step(ids, labels)).loss).toBe((await ref.step(ids, labels)).loss);
    } finally {
      ref.destroy();
      s.engine.destroy();
    }
  });

  it('Qwen3 BF16, packed: one tensor at a time, the same logits and loss as in memory', async () => {
    const ctx = await testContext();
    const files = await fixtureFiles('llama_qwen3_tiny');
    const o = { targetModules: ['q_proj', 'v_proj'], r: 4, scale: 2, B: 1, T: 8, seed: 5 };
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedLlama;
    expect(memory.tensors.get('embed_tokens.weight')?.dtype).toBe('BF16');
    const ref = await LlamaLoraModel.create(ctx, memory, o);
    const s = await streamedBuild(ctx, files, (m) => LlamaLoraModel.create(ctx, m as LoadedLlama, o));
    try {
      expectOneTensorAtATime(s.loaded, files, s);
      expect(s.engine.parts.weights.embedFormat).toBe('bf16');
      const V = memory.config.vocab_size;
      const ids = Uint32Array.from({ length: 8 }, (_, i) => (i * 7 + 3) % V);
      const labels = Int32Array.from({ length: 8 }, (_, i) => (i * 5 + 1) % V);
      const lora = new Map([...await ref.readLoraWeights()].map(([k, v]) => [k, Float32Array.from(v, (x, i) => x + 0.05 * Math.cos(i))]));
      ref.setLoraWeights(lora);
      s.engine.setLoraWeights(lora);
      expect(await s.engine.forwardLogits(ids)).toEqual(await ref.forwardLogits(ids));
      expect((await s.engine.step(ids, labels)).loss).toBe((await ref.step(ids, labels)).loss);
    } finally {
      ref.destroy();
      s.engine.destroy();
    }
  });
});
