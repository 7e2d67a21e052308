// GPT-2 text generation on the engine, with a KV cache (kvcache.ts), B = 1. The prompt's T0 tokens
// run once through the stem and the blocks (prepareTrunk on a (1, T0) plan without a head, ../prefill.ts),
// which also fills the cache; only their last row goes through ln_f and the head. After that each decode
// step feeds only the newest token: every matmul has M = 1 (LoRA included where targeted: the adapted
// model generates), its K and V are appended to the cache and its query attends over all cached
// positions (attention_decode.wgsl). Each step reads back just the V logits of the last position;
// sampling runs on the CPU (../sampling.ts). A vocabulary split into chunks (../../kernels/vocab_split.ts)
// is walked chunk by chunk: the token's embedding row from its chunk, the head one matmul per chunk, the
// logits row read back from each chunk.
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareAttentionDecode } from '../../kernels/attention_decode';
import { validateIds } from '../../kernels/embedding';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import { readVocabRow, vocabRow } from '../../kernels/vocab_split';
import { type SamplingOptions, createRng, sampleToken } from '../sampling';
import { prepareAttentionIn, prepareBlockOut } from '../block';
import { destroyTrunk, planTrunk, prepareLastRow } from '../prefill';
import { type Gpt2Parts, prepareHead, prepareTrunk } from './forward';
import { type Gpt2KvCache, createKvCache, destroyKvCache, prepareKvAppend } from './kvcache';
import type { Gpt2LoraModel } from './model';
import { destroyGpt2Acts, planGpt2Acts } from './plan';

/** The model's weights and LoRA buffers with fresh activations for a (1, 1) decode step. */
function stepParts(parts: Gpt2Parts): Gpt2Parts {
  // Generation is inference: no LoRA dropout.
  return { ...parts, dropout: undefined, acts: planGpt2Acts(parts.ctx, parts.spec, parts.config, 1, 1, parts.byPath, parts.weights.vocab) };
}

/** The position-independent launches of one decode step, around the per-step attention. */
interface StepLaunches {
  pre: Launch[][]; // per layer: ln_1, c_attn → qkv (1, 3C)
  post: Launch[][]; // per layer: c_proj, residual, ln_2, MLP, residual
  head: Launch[]; // ln_f, logits (1, V) = lnf · wteᵀ, chunk by chunk of the vocabulary (the prefill's last row too)
}

async function prepareStep(p: Gpt2Parts): Promise<StepLaunches> {
  const c = p.config;
  const pre: Launch[][] = [], post: Launch[][] = [];
  for (let l = 0; l < c.n_layer; l++) {
    pre.push(await prepareAttentionIn(p, l));
    post.push(await prepareBlockOut(p, l));
  }
  return { pre, post, head: await prepareHead(p) };
}

/** Prefill + decode steps over one KV cache. Shares the model's weights and LoRA buffers (not copied). */
export class Gpt2Decoder {
  private constructor(
    private readonly parts: Gpt2Parts, // the (1, 1) step plan
    private readonly launches: StepLaunches,
    readonly cache: Gpt2KvCache,
  ) {}

  /** maxT: cache capacity, at most (and by default) n_positions. */
  static async create(model: Gpt2LoraModel, maxT = model.parts.config.n_positions): Promise<Gpt2Decoder> {
    const cache = createKvCache(model.parts.ctx, model.parts.config, maxT);
    const parts = stepParts(model.parts);
    return new Gpt2Decoder(parts, await prepareStep(parts), cache);
  }

  private get ctx(): GpuContext {
    return this.parts.ctx;
  }

  /** Positions in the cache (prompt + fed tokens). */
  get length(): number {
    return this.cache.length;
  }

  /**
   * Starts a new sequence: runs the prompt (1 ≤ T0 ≤ maxT), fills the cache, returns the last row's logits (V),
   * headed on the step plan's buffers (../prefill.ts).
   */
  async prefill(prompt: Uint32Array): Promise<Float32Array> {
    const { ctx, cache, parts: step } = this;
    const T0 = prompt.length, c = step.config;
    if (T0 < 1 || T0 > cache.maxT) throw new Error(`generate: prompt of ${T0} tokens; must be 1..${cache.maxT} (n_positions)`);
    validateIds(prompt, c.vocab_size);
    const acts = planTrunk(ctx, step.spec, T0, step.byPath, 'gpt2/prefill');
    const own: Launch[] = [];
    try {
      own.push(...await prepareTrunk({ ...step, acts }));
      for (let l = 0; l < c.n_layer; l++) own.push(...await prepareKvAppend(ctx, cache, l, acts.layers[l].qkv, 0, T0));
      own.push(await prepareLastRow(ctx, acts, c.n_embd, step.acts.resid[c.n_layer]));
      ctx.write(acts.ids, prompt);
      ctx.submit([...own, ...this.launches.head], 'gpt2/prefill');
      cache.length = T0;
      return await readVocabRow(ctx, step.acts.logitsChunks, 0, step.acts.vocab);
    } finally {
      for (const l of own) l.destroy();
      destroyTrunk(acts);
    }
  }

  /** Feeds one token at position `length` and returns its logits (V), the next token's distribution. */
  async step(token: number): Promise<Float32Array> {
    const { ctx, cache, parts: { config: c, acts, weights }, launches: s } = this;
    const pos = cache.length, C = c.n_embd;
    if (pos === 0) throw new Error('generate: step before prefill');
    if (pos >= cache.maxT) throw new Error(`generate: the cache is full (${cache.maxT} positions = n_positions)`);
    validateIds(Uint32Array.of(token), c.vocab_size);
    // resid[0] = wte[token] + wpe[pos]: two row copies, the token and position known on the CPU (the
    // token's row from the vocabulary chunk that holds it).
    const row = (src: GPUBuffer, r: number, accumulate: boolean) => prepareStridedCopy(ctx, {
      batch: 1, rows: 1, cols: C, srcOffset: r * C, srcRowStride: C, dstRowStride: C, accumulate,
    }, { src, dst: acts.resid[0] });
    const tok = vocabRow(weights.vocab, token);
    const dynamic: Launch[] = [await row(weights.wteChunks[tok.k], tok.row, false), await row(weights.wpe, pos, true)];
    const order: Launch[] = [...dynamic];
    for (let l = 0; l < c.n_layer; l++) {
      const a = acts.layers[l];
      const per = [
        ...await prepareKvAppend(ctx, cache, l, a.qkv, pos, 1),
        await prepareAttentionDecode(ctx, { T: pos + 1, C, NH: c.n_head }, {
          qkv: a.qkv, kcache: cache.k[l], vcache: cache.v[l], att: cache.att, out: a.atty,
        }),
      ];
      dynamic.push(...per);
      order.push(...s.pre[l], ...per, ...s.post[l]);
    }
    order.push(...s.head);
    try {
      ctx.submit(order, 'gpt2/decode');
      cache.length = pos + 1;
      return await readVocabRow(ctx, acts.logitsChunks, 0, acts.vocab);
    } finally {
      for (const l of dynamic) l.destroy();
    }
  }

  destroy(): void {
    const s = this.launches;
    for (const l of [...s.pre.flat(), ...s.post.flat(), ...s.head]) l.destroy();
    destroyGpt2Acts(this.parts.acts);
    destroyKvCache(this.cache);
  }
}

/** Why generation ended: maxNewTokens reached, eosTokenId sampled, or n_positions tokens in the sequence. */
export type StopReason = 'max_tokens' | 'eos' | 'n_positions';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** PRNG seed of the sampler (ignored by greedy decoding); the same seed repeats the run. */
  seed?: number;
  /**
   * Stop after sampling this id, or any of these (a chat model's EOS and end-of-turn tokens; HF's
   * eos_token_id is an int or a list too); the stop id is included in `ids`, as HF's generate does.
   */
  eosTokenId?: number | readonly number[];
}

export interface GenerateResult {
  ids: number[]; // the new tokens only, prompt excluded
  stopReason: StopReason;
}

/**
 * Samples up to maxNewTokens tokens after the prompt with the adapted model. The sequence (prompt +
 * new tokens) never exceeds n_positions: GPT-2 has no position embedding beyond it.
 */
export async function generate(model: Gpt2LoraModel, prompt: Uint32Array, o: GenerateOptions): Promise<GenerateResult> {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new Error(`generate: maxNewTokens=${o.maxNewTokens} must be an integer ≥ 0`);
  const maxT = model.parts.config.n_positions;
  const ids: number[] = [];
  if (o.maxNewTokens === 0) return { ids, stopReason: 'max_tokens' };
  if (prompt.length >= maxT) {
    validateIds(prompt, model.parts.config.vocab_size);
    if (prompt.length > maxT) throw new Error(`generate: prompt of ${prompt.length} tokens exceeds n_positions=${maxT}`);
    return { ids, stopReason: 'n_positions' };
  }
  const decoder = await Gpt2Decoder.create(model, maxT);
  try {
    const rng = createRng(o.seed ?? 0);
    const stops = new Set(typeof o.eosTokenId === 'number' ? [o.eosTokenId] : (o.eosTokenId ?? []));
    let logits = await decoder.prefill(prompt);
    for (;;) {
      const token = sampleToken(logits, o, rng);
      ids.push(token);
      if (stops.has(token)) return { ids, stopReason: 'eos' };
      if (ids.length >= o.maxNewTokens) return { ids, stopReason: 'max_tokens' };
      if (prompt.length + ids.length >= maxT) return { ids, stopReason: 'n_positions' };
      logits = await decoder.step(token);
    }
  } finally {
    decoder.destroy();
  }
}
