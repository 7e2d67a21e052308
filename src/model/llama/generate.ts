// Llama-family text generation with a KV cache (B = 1), the adapted model (LoRA included where targeted).
// The prompt's T0 tokens run once through the stem and the blocks on a (1, T0) plan without a head
// (../prefill.ts), whose k (after the q/k norm and RoPE) and v rows fill the cache; only their last row
// goes through the final norm and the head. Each decode step then feeds one token at position pos: the
// block's q/k/v projections (M = 1), RoPE at pos (pos0 = pos in the same cos/sin table), its k and v
// appended to the cache, and its query attending over all cached positions with grouped-query heads
// (attention_gqa_decode.wgsl). Each step reads back the V logits of the new position (from each chunk of a
// split vocabulary, ../../kernels/vocab_split.ts); sampling is on the CPU (../sampling.ts). Generation stops at any of the model's EOS ids.
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareGqaDecode } from '../../kernels/attention_gqa_decode';
import { prepareEmbeddingForwardChunks, validateIds } from '../../kernels/embedding';
import { isPackedFormat } from '../../kernels/packed';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import { readVocabRow, vocabRow } from '../../kernels/vocab_split';
import { type StackPass, prepareAttentionIn, prepareBlockOut, prepareRotary } from '../block';
import { checkLlamaLength } from '../families/llama';
import { qkvWidths } from '../families/spec';
import { type RopeTables, destroyRopeTables, uploadRopeTables } from '../rotary';
import { destroyTrunk, planTrunk, prepareLastRow } from '../prefill';
import { type SamplingOptions, createRng, sampleToken } from '../sampling';
import { type LlamaParts, prepareHead, prepareTrunk } from './forward';
import type { LlamaLoraModel } from './model';
import type { LlamaWeights } from './weights';
import { destroyLlamaActs, planLlamaActs } from './plan';

/** Per layer, the keys (after RoPE) and values of every position fed so far. */
interface KvCache {
  maxT: number;
  length: number; // positions written; the next token goes to row `length`
  k: GPUBuffer[]; // L × (maxT, NKV·HS)
  v: GPUBuffer[]; // L × (maxT, NKV·HS)
  att: GPUBuffer; // (NH, maxT) decode scratch, shared by the layers (they run in order)
}

/** Copies rows [0, rows) of the k and v buffers into cache rows [pos, pos + rows) of one layer. */
async function prepareKvAppend(ctx: GpuContext, cache: KvCache, p: Pick<StackPass, 'spec' | 'acts'>, l: number, pos: number, rows: number): Promise<Launch[]> {
  const { KW } = qkvWidths(p.spec);
  const [, k, v] = p.acts.layers[l].qkvParts;
  const copy = (src: GPUBuffer, dst: GPUBuffer) =>
    prepareStridedCopy(ctx, { batch: 1, rows, cols: KW, srcRowStride: KW, dstOffset: pos * KW, dstRowStride: KW }, { src, dst });
  return [await copy(k, cache.k[l]), await copy(v, cache.v[l])];
}

/** The decoder's own tables for maxT positions: the rope table and the zero position rows of the prefill's stem. */
interface DecoderTables {
  rope: RopeTables;
  noPositions: GPUBuffer; // (maxT, C) zeros
}

/** The model's weights and adapter with fresh activations for a (1, 1) decode step and the decoder's tables. */
function stepParts(parts: LlamaParts, t: DecoderTables): LlamaParts {
  // Copied by property descriptors, not spread: a spread would call the whole-tensor getters (embed, head),
  // which refuse a vocabulary split into chunks.
  const weights = Object.defineProperties({}, Object.getOwnPropertyDescriptors(parts.weights)) as LlamaWeights;
  weights.rope = t.rope;
  weights.noPositions = t.noPositions;
  return {
    ...parts, dropout: undefined, rope: t.rope, weights,
    acts: planLlamaActs(parts.ctx, parts.spec, parts.V, 1, 1, parts.byPath, parts.weights.vocab),
  };
}

export class LlamaDecoder {
  private constructor(
    private readonly parts: LlamaParts, // the (1, 1) step plan
    private readonly pre: Launch[][], // per layer: norm1, q/k/v (+ q/k norms)
    private readonly post: Launch[][], // per layer: o, residual, norm2, MLP, residual
    private readonly head: Launch[], // final norm and LM head of one row (each step's, and the prefill's last)
    private readonly tables: DecoderTables,
    private readonly cache: KvCache,
  ) {}

  /** maxT: cache capacity (prompt + new tokens), at most max_position_embeddings and any sliding window. */
  static async create(model: LlamaLoraModel, maxT: number): Promise<LlamaDecoder> {
    const { ctx, spec } = model.parts;
    checkLlamaLength(model.source.config, maxT, 'a generated sequence');
    const f = (label: string, n: number) => ctx.createBuffer(label, n * 4);
    const tables = { rope: uploadRopeTables(ctx, spec, maxT), noPositions: f('decoder.no_positions', maxT * spec.C) };
    const { KW } = qkvWidths(spec);
    const cache: KvCache = {
      maxT, length: 0,
      k: Array.from({ length: spec.L }, (_, l) => f(`kv.${l}.k`, maxT * KW)),
      v: Array.from({ length: spec.L }, (_, l) => f(`kv.${l}.v`, maxT * KW)),
      att: f('kv.att', spec.attention.NH * maxT),
    };
    const parts = stepParts(model.parts, tables);
    const pre: Launch[][] = [], post: Launch[][] = [];
    for (let l = 0; l < spec.L; l++) {
      pre.push(await prepareAttentionIn(parts, l));
      post.push(await prepareBlockOut(parts, l));
    }
    return new LlamaDecoder(parts, pre, post, await prepareHead(parts, 1), tables, cache);
  }

  get length(): number {
    return this.cache.length;
  }

  /**
   * Starts a new sequence: runs the prompt (1 ≤ T0 ≤ maxT), fills the cache, returns the last row's logits (V),
   * headed on the step plan's buffers (../prefill.ts).
   */
  async prefill(prompt: Uint32Array): Promise<Float32Array> {
    const { cache, parts: step } = this, { ctx, V, spec } = step;
    const T0 = prompt.length;
    if (T0 < 1 || T0 > cache.maxT) throw new Error(`generate: prompt of ${T0} tokens; must be 1..${cache.maxT}`);
    validateIds(prompt, V);
    const acts = planTrunk(ctx, spec, T0, step.byPath, 'llama/prefill');
    const p = { ...step, acts }; // the decoder's weights: its rope table covers maxT positions
    const own: Launch[] = [];
    try {
      own.push(...await prepareTrunk(p));
      for (let l = 0; l < spec.L; l++) own.push(...await prepareKvAppend(ctx, cache, p, l, 0, T0));
      own.push(await prepareLastRow(ctx, acts, spec.C, step.acts.resid[spec.L]));
      ctx.write(acts.ids, prompt);
      ctx.submit([...own, ...this.head], 'llama/prefill');
      cache.length = T0;
      return await readVocabRow(ctx, step.acts.logitsChunks, 0, step.acts.vocab);
    } finally {
      for (const l of own) l.destroy();
      destroyTrunk(acts);
    }
  }

  /** Feeds one token at position `length` and returns its logits (V). */
  async step(token: number): Promise<Float32Array> {
    const { cache, parts: p, pre, post, head } = this;
    const { ctx, V, spec, acts, weights } = p;
    const pos = cache.length, C = spec.C, { NH, NKV, HS } = spec.attention;
    if (pos === 0) throw new Error('generate: step before prefill');
    if (pos >= cache.maxT) throw new Error(`generate: the cache is full (${cache.maxT} positions)`);
    validateIds(Uint32Array.of(token), V);
    // resid[0] = embed_tokens[token]. A packed embed_tokens (BF16/F16) is read through the gather that
    // unpacks it, with the token as the one id; an F32 one is copied from the vocabulary chunk that holds it.
    const packed = isPackedFormat(weights.embedFormat);
    if (packed) ctx.write(acts.ids, Uint32Array.of(token));
    const tok = vocabRow(weights.vocab, token);
    const dynamic: Launch[] = packed
      ? await prepareEmbeddingForwardChunks(ctx, { B: 1, T: 1, C, V, maxT: 1 }, weights.vocab,
        { ids: acts.ids, wte: weights.embedChunks, wpe: weights.noPositions, out: acts.resid[0] }, weights.embedFormat)
      : [await prepareStridedCopy(ctx, { batch: 1, rows: 1, cols: C, srcOffset: tok.row * C, srcRowStride: C, dstRowStride: C },
        { src: weights.embedChunks[tok.k], dst: acts.resid[0] })];
    const order: Launch[] = [...dynamic];
    for (let l = 0; l < spec.L; l++) {
      const a = acts.layers[l];
      const per = [
        ...await prepareRotary(p, l, pos),
        ...await prepareKvAppend(ctx, cache, p, l, pos, 1),
        await prepareGqaDecode(ctx, { T: pos + 1, NH, NKV, HS, maxT: cache.maxT }, {
          q: a.qkvParts[0], kcache: cache.k[l], vcache: cache.v[l], att: cache.att, out: a.atty,
        }),
      ];
      dynamic.push(...per);
      order.push(...pre[l], ...per, ...post[l]);
    }
    order.push(...head);
    try {
      ctx.submit(order, 'llama/decode');
      cache.length = pos + 1;
      return await readVocabRow(ctx, acts.logitsChunks, 0, acts.vocab);
    } finally {
      for (const l of dynamic) l.destroy();
    }
  }

  destroy(): void {
    for (const l of [...this.pre.flat(), ...this.post.flat(), ...this.head]) l.destroy();
    destroyLlamaActs(this.parts.acts);
    destroyRopeTables(this.tables.rope);
    this.tables.noPositions.destroy();
    for (const b of [...this.cache.k, ...this.cache.v, this.cache.att]) b.destroy();
  }
}

/** Why generation ended: maxNewTokens reached, an EOS id sampled, or the context (maxT) full. */
export type LlamaStopReason = 'max_tokens' | 'eos' | 'max_length';

export interface LlamaGenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed?: number;
  /** Stop after sampling any of these ids (included in `ids`, as HF's generate does). */
  eosTokenIds?: readonly number[];
  /** Longest sequence (prompt + new); default max_position_embeddings, or the sliding window if shorter. */
  maxLength?: number;
}

export interface LlamaGenerateResult {
  ids: number[]; // the new tokens only
  stopReason: LlamaStopReason;
}

/** Samples up to maxNewTokens tokens after the prompt with the adapted model. */
export async function generateLlama(model: LlamaLoraModel, prompt: Uint32Array, o: LlamaGenerateOptions): Promise<LlamaGenerateResult> {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new Error(`generate: maxNewTokens=${o.maxNewTokens} must be an integer ≥ 0`);
  const c = model.source.config;
  const limit = Math.min(o.maxLength ?? Infinity, c.max_position_embeddings, c.slidingWindow ?? Infinity);
  const ids: number[] = [];
  if (o.maxNewTokens === 0) return { ids, stopReason: 'max_tokens' };
  if (prompt.length >= limit) {
    validateIds(prompt, model.parts.V);
    if (prompt.length > limit) throw new Error(`generate: prompt of ${prompt.length} tokens exceeds the model's ${limit}-token context`);
    return { ids, stopReason: 'max_length' };
  }
  // The cache holds what this call can reach: the prompt and its new tokens, within the limit.
  const decoder = await LlamaDecoder.create(model, Math.min(limit, prompt.length + o.maxNewTokens));
  const eos = new Set(o.eosTokenIds ?? []);
  try {
    const rng = createRng(o.seed ?? 0);
    let logits = await decoder.prefill(prompt);
    for (;;) {
      const token = sampleToken(logits, o, rng);
      ids.push(token);
      if (eos.has(token)) return { ids, stopReason: 'eos' };
      if (ids.length >= o.maxNewTokens) return { ids, stopReason: 'max_tokens' };
      if (prompt.length + ids.length >= limit) return { ids, stopReason: 'max_length' };
      logits = await decoder.step(token);
    }
  } finally {
    decoder.destroy();
  }
}
