// Vocabulary splits through whole models (issue 13 item 2): a context whose binding limit is lowered to
// 64 KiB holds the (V, C) embedding / LM head and the (B·T, V) logits in row chunks, and the engines' chunked
// stem and head (embedding gather, head matmul, cross-entropy forward and backward, dh = Σ_k dlogits_k · W_k)
// must give what the same model gives on the device's own limits, where everything is whole.
// Generation (KV-cache decoders, sampled and greedy) must give the same tokens and bit-identical logits,
// also for a prompt longer than the planned T whose (T0, n_k) logits chunks would outgrow the limit: the
// prefill heads its last row only (src/model/prefill.ts), with the bits of the full forward's last row.
// Bit-identical: logits (each logit is the same dot product in the same order). At F32 tolerance: the loss
// (Σ exp is summed in another order across chunks) and the gradients (dlnf sums the chunks' products).
import { beforeAll, describe, expect, it } from 'vitest';
import { getDevice } from '../../../src/gpu/device';
import type { GpuContext } from '../../../src/gpu/context';
import { GpuLimitError } from '../../../src/gpu/errors';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import { Gpt2Decoder, generate } from '../../../src/model/gpt2/generate';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { LlamaDecoder, generateLlama } from '../../../src/model/llama/generate';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import type { VocabSplit } from '../../../src/kernels/vocab_split';
import { expectAllClose } from '../../helpers/allclose';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { randomInts, uniformF32 } from '../../helpers/random';
import { sourceOf, tinyLlama } from './llamaTiny';

const LIMIT = 64 * 1024;
/** Two F32 paths that differ only in summation order (as gpt2.test.ts's f32Paths). */
const F32_PATHS = { atol: 1e-6, rtol: 1e-5 };
const LOSS = { atol: 0, rtol: 2e-6 };

interface Lm {
  forwardLogits(ids: Uint32Array): Promise<Float32Array>;
  evalLoss(ids: Uint32Array, labels: Int32Array): Promise<{ loss: number; count: number }>;
  step(ids: Uint32Array, labels: Int32Array): Promise<{ loss: number }>;
  readGrads(): Promise<Map<string, Float32Array>>;
  readLoraWeights(): Promise<Map<string, Float32Array>>;
  setLoraWeights(v: ReadonlyMap<string, Float32Array>): void;
  destroy(): void;
}

/** Everything the chunked and the whole model must agree on, with the same nonzero adapters. */
async function run(model: Lm, lora: Map<string, Float32Array>, ids: Uint32Array, labels: Int32Array) {
  model.setLoraWeights(lora);
  const logits = await model.forwardLogits(ids);
  const evalLoss = await model.evalLoss(ids, labels);
  const { loss } = await model.step(ids, labels);
  return { logits, evalLoss, loss, grads: await model.readGrads() };
}

function expectSame(chunked: Awaited<ReturnType<typeof run>>, whole: Awaited<ReturnType<typeof run>>) {
  expect(chunked.logits).toEqual(whole.logits); // bit-identical
  expect(chunked.evalLoss.count).toBe(whole.evalLoss.count);
  expectAllClose([chunked.evalLoss.loss], [whole.evalLoss.loss], LOSS, 'eval loss');
  expectAllClose([chunked.loss], [whole.loss], LOSS, 'step loss');
  expect([...chunked.grads.keys()]).toEqual([...whole.grads.keys()]);
  for (const [name, g] of whole.grads) expectAllClose(chunked.grads.get(name) as Float32Array, g, F32_PATHS, name);
}

interface Decoder {
  prefill(prompt: Uint32Array): Promise<Float32Array>;
  step(token: number): Promise<Float32Array>;
  destroy(): void;
}

/**
 * The decoder's logits after the prompt and after each fed token (the KV-cache path: the token's embedding
 * row from its chunk, the head per chunk, one row read back from each chunk).
 */
async function decodeLogits(dec: Decoder, prompt: Uint32Array, fed: number[]): Promise<Float32Array[]> {
  try {
    const out = [await dec.prefill(prompt)];
    for (const t of fed) out.push(await dec.step(t));
    return out;
  } finally {
    dec.destroy();
  }
}

/** Sampled generation (temperature with top-k: every logit of every chunk takes part) and greedy. */
const SAMPLED = { maxNewTokens: 6, temperature: 0.9, topK: 50, seed: 9 };
const GREEDY = { maxNewTokens: 6, temperature: 0 };

/** Labels with ignored positions (−100) mixed in, as a chat mask gives. */
function labelsOf(n: number, V: number, seed: number): Int32Array {
  const labels = Int32Array.from(randomInts(n, seed, V));
  for (let i = 0; i < n; i += 5) labels[i] = -100;
  return labels;
}

interface LongPromptCase<M> {
  V: number;
  T0: number; // the prompt's length
  seed: number;
  fed: number[]; // tokens fed after the prompt
  create(ctx: GpuContext, T: number): Promise<M>; // a model planned for (1, T)
  decoder(model: M): Promise<Decoder>;
  generate(model: M, prompt: Uint32Array, o: typeof SAMPLED | typeof GREEDY): Promise<{ ids: number[] }>;
}

type LmModel = Lm & { parts: { weights: { vocab: VocabSplit }; slots: { index: number; b: { name: string; numel: number } }[] } };

/**
 * A prompt of T0 tokens on a model planned for 2 rows under the small limit, whose (T0, n_k) logits chunks
 * would not fit it, against the whole model planned for the prompt (whose forward heads all T0 rows, as the
 * prefill did before it headed the last row only): the prefill's logits are the full forward's last row,
 * bit for bit, and the decoders and sampled and greedy generation agree.
 */
async function expectLongPrefill<M extends LmModel>(c: LongPromptCase<M>, whole: GpuContext, small: GpuContext): Promise<void> {
  const a = await c.create(whole, c.T0);
  const b = await c.create(small, 2);
  try {
    const { chunks } = b.parts.weights.vocab;
    expect(chunks.length).toBeGreaterThan(1);
    expect(c.T0 * chunks[0].n * 4).toBeGreaterThan(LIMIT);
    const lora = await a.readLoraWeights();
    for (const s of a.parts.slots) lora.set(s.b.name, uniformF32(s.b.numel, c.seed + s.index, -0.5, 0.5));
    a.setLoraWeights(lora);
    b.setLoraWeights(lora);
    const prompt = randomInts(c.T0, c.seed, c.V);
    prompt[c.T0 - 1] = c.V - 1;
    const lastRow = (await a.forwardLogits(prompt)).slice((c.T0 - 1) * c.V);
    const chunkedLogits = await decodeLogits(await c.decoder(b), prompt, c.fed);
    const wholeLogits = await decodeLogits(await c.decoder(a), prompt, c.fed);
    expect(wholeLogits[0]).toEqual(lastRow); // bit-identical to the head over all rows
    expect(chunkedLogits).toEqual(wholeLogits);
    for (const g of [SAMPLED, GREEDY]) {
      const want = await c.generate(a, prompt, g);
      expect(want.ids).toHaveLength(g.maxNewTokens);
      expect(await c.generate(b, prompt, g)).toEqual(want);
    }
  } finally {
    a.destroy();
    b.destroy();
  }
}

describe('vocabulary split under a 64 KiB binding limit', () => {
  let whole: GpuContext, small: GpuContext;
  beforeAll(async () => {
    whole = await testContext();
    small = await getDevice({ label: 'small-binding-limit' });
    small.restrictBufferLimits({ maxStorageBufferBindingSize: LIMIT });
  });

  it('GPT-2 (tied wte, V = 1,000): wte and logits in chunks; logits bit-identical, loss and LoRA gradients at F32 tolerance; generation the same tokens and logits', async () => {
    const { loaded: fixture } = await loadFixture('gpt2_tiny', 'gpt2');
    // The fixture's blocks with a 1,000-token vocabulary: wte is 1,000 × 48 × 4 = 192 KB, three times the limit.
    const V = 1000, C = fixture.config.n_embd;
    const tensors = new Map(fixture.tensors);
    tensors.set('wte.weight', { ...fixture.tensors.get('wte.weight')!, data: uniformF32(V * C, 7, -0.5, 0.5), shape: [V, C] });
    const loaded: LoadedGpt2 = { ...fixture, config: { ...fixture.config, vocab_size: V }, tensors };
    const B = 2, T = 13;
    const o = { targetModules: ['c_attn', 'c_proj', 'c_fc'], r: 2, scale: 2, B, T, seed: 3 };
    const a = await Gpt2LoraModel.create(whole, loaded, o);
    const b = await Gpt2LoraModel.create(small, loaded, o);
    try {
      expect(a.parts.weights.vocab.chunks).toHaveLength(1);
      const { chunks } = b.parts.weights.vocab;
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.map((c) => c.n).reduce((x, y) => x + y)).toBe(V);
      for (const buf of [...b.parts.weights.wteChunks, ...b.parts.acts.logitsChunks, ...b.parts.acts.probsChunks]) expect(buf.size).toBeLessThanOrEqual(LIMIT);
      const lora = await a.readLoraWeights();
      for (const s of a.parts.slots) lora.set(s.b.name, uniformF32(s.b.numel, 50 + s.index, -0.5, 0.5));
      const ids = randomInts(B * T, 11, V);
      ids[0] = V - 1; ids[1] = 0; // the last chunk's last row and the first chunk's first
      const labels = labelsOf(B * T, V, 12);
      labels[1] = V - 1; labels[2] = 0;
      expectSame(await run(b, lora, ids, labels), await run(a, lora, ids, labels));
      // Generation: the fed tokens are the last chunk's last row, the first chunk's first row and one between.
      const prompt = Uint32Array.from([5, V - 1, 400]), fed = [V - 1, 0, 517];
      const chunkedLogits = await decodeLogits(await Gpt2Decoder.create(b, 12), prompt, fed);
      const wholeLogits = await decodeLogits(await Gpt2Decoder.create(a, 12), prompt, fed);
      expect(chunkedLogits).toEqual(wholeLogits); // bit-identical, row by row
      for (const o of [SAMPLED, GREEDY]) {
        const want = await generate(a, prompt, o);
        expect(want.ids).toHaveLength(o.maxNewTokens);
        expect(await generate(b, prompt, o)).toEqual(want);
      }
      // Paths without a chunked form refuse in one line instead of reading the wrong buffer.
      expect(() => b.parts.weights.wte).toThrow(/wte\.weight is split into \d+ vocabulary chunks/);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('Llama family (untied lm_head, GQA, V = 2,001): embed_tokens, lm_head and logits in chunks; same results, generation included', async () => {
    const m = tinyLlama({ tied: false, hidden_size: 16, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, intermediate_size: 24, V: 2001 });
    const B = 2, T = 6;
    const o = { targetModules: ['q_proj', 'v_proj', 'down_proj'], r: 2, scale: 2, B, T, seed: 4 };
    const a = await LlamaLoraModel.create(whole, sourceOf(m), o);
    const b = await LlamaLoraModel.create(small, sourceOf(m), o);
    try {
      expect(a.parts.weights.vocab.chunks).toHaveLength(1);
      expect(b.parts.weights.vocab.chunks.length).toBeGreaterThan(1);
      expect(b.parts.weights.headChunks).not.toBe(b.parts.weights.embedChunks);
      for (const buf of [...b.parts.weights.embedChunks, ...b.parts.weights.headChunks, ...b.parts.acts.logitsChunks]) expect(buf.size).toBeLessThanOrEqual(LIMIT);
      const lora = await a.readLoraWeights();
      for (const s of a.parts.slots) lora.set(s.b.name, uniformF32(s.b.numel, 60 + s.index, -0.5, 0.5));
      const ids = randomInts(B * T, 21, m.V);
      ids[3] = m.V - 1;
      const labels = labelsOf(B * T, m.V, 22);
      labels[4] = m.V - 1;
      expectSame(await run(b, lora, ids, labels), await run(a, lora, ids, labels));
      const prompt = Uint32Array.from([3, m.V - 1]), fed = [0, m.V - 1, 1234];
      const chunkedLogits = await decodeLogits(await LlamaDecoder.create(b, 8), prompt, fed);
      const wholeLogits = await decodeLogits(await LlamaDecoder.create(a, 8), prompt, fed);
      expect(chunkedLogits).toEqual(wholeLogits); // bit-identical, row by row
      for (const o of [SAMPLED, GREEDY]) {
        const want = await generateLlama(a, prompt, o);
        expect(want.ids).toHaveLength(o.maxNewTokens);
        expect(await generateLlama(b, prompt, o)).toEqual(want);
      }
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('GPT-2 prefill of a prompt longer than the plan, whose (T0, n_k) logits exceed the limit: heads the last row only, same bits as the whole model\'s full forward', async () => {
    const { loaded: fixture } = await loadFixture('gpt2_tiny', 'gpt2');
    // V = 1,000 and 64 positions (random wte, wpe): a chunk holds ~340 rows (limit / 4C), so the logits
    // of a 56-token prompt would take 56 × n_k × 4 > 64 KiB per chunk.
    const V = 1000, NP = 64, C = fixture.config.n_embd, T0 = 56;
    const tensors = new Map(fixture.tensors);
    tensors.set('wte.weight', { ...fixture.tensors.get('wte.weight')!, data: uniformF32(V * C, 7, -0.5, 0.5), shape: [V, C] });
    tensors.set('wpe.weight', { ...fixture.tensors.get('wpe.weight')!, data: uniformF32(NP * C, 8, -0.1, 0.1), shape: [NP, C] });
    const loaded: LoadedGpt2 = { ...fixture, config: { ...fixture.config, vocab_size: V, n_positions: NP }, tensors };
    const o = { targetModules: ['c_attn', 'c_proj', 'c_fc'], r: 2, scale: 2, seed: 3 };
    await expectLongPrefill({
      V, T0, seed: 70, fed: [V - 1, 0, 517],
      create: (ctx, T) => Gpt2LoraModel.create(ctx, loaded, { ...o, B: 1, T }),
      decoder: (model) => Gpt2Decoder.create(model, NP),
      generate,
    }, whole, small);
  });

  it('Llama prefill of a prompt longer than the plan, whose (T0, n_k) logits exceed the limit: heads the last row only, same bits as the whole model\'s full forward', async () => {
    const m = tinyLlama({ tied: false, hidden_size: 16, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, intermediate_size: 24, V: 2001 });
    // A chunk holds ~1,000 rows (limit / 4C): a 24-token prompt's logits would take 96 KB per chunk.
    const o = { targetModules: ['q_proj', 'v_proj', 'down_proj'], r: 2, scale: 2, seed: 4 };
    await expectLongPrefill({
      V: m.V, T0: 24, seed: 80, fed: [0, m.V - 1, 1234],
      create: (ctx, T) => LlamaLoraModel.create(ctx, sourceOf(m), { ...o, B: 1, T }),
      decoder: (model) => LlamaDecoder.create(model, 32),
      generate: generateLlama,
    }, whole, small);
  });

  it('refuses, naming the limit and the tensor, when one vocabulary row cannot fit', async () => {
    const tiny = await getDevice({ label: 'tiny-binding-limit' });
    tiny.restrictBufferLimits({ maxStorageBufferBindingSize: 32 });
    const m = tinyLlama({ V: 50 }); // C = 12: a row is 48 bytes
    const err = await LlamaLoraModel.create(tiny, sourceOf(m), { targetModules: ['q_proj'], r: 1, scale: 1, B: 1, T: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuLimitError);
    expect((err as Error).message).toMatch(/^one row of embed_tokens\.weight \(C=12 F32\) needs maxStorageBufferBindingSize of 48 bytes but this device allows 32 bytes$/);
    tiny.destroy();
  });
});
