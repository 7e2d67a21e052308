// LlamaLoraModel: a frozen Llama-family model (Llama, Mistral, Qwen2, Qwen3) with LoRA or DoRA adapters on
// any of q_proj … down_proj, trained on the GPU, on the causal-LM surface every decoder family shares
// (../causalLm.ts); here only how it is built and which nn.Linear weight a path names.
import type { GpuContext, Launch } from '../../gpu/context';
import type { ModuleSelector } from '../../io/peft';
import { BaseNorms, layoutSlots } from '../adaptedLinear';
import { ArenaLayout, TrainableArena } from '../arena';
import { CausalLmEngine, type LmPasses, prepareLmPasses } from '../causalLm';
import { LLAMA_MODULES, type LlamaSource, checkLlamaLength, llamaLoraModules, llamaSpecOf } from '../families/llama';
import { type LlamaParts, prepareBackward, prepareForward, prepareLoss, prepareLossBackward } from './forward';
import { splitVocab } from '../../kernels/vocab_split';
import { destroyLlamaActs, planLlamaActs } from './plan';
import { LLAMA_EMBED } from './reference';
import { destroyLlamaWeights, uploadLlamaWeights } from './weights';
import type { FrozenWeights } from '../frozen';
import { isPackedFormat } from '../../kernels/packed';

export interface LlamaLoraOptions {
  targetModules: ModuleSelector; // PEFT target_modules: suffixes, or a full-match regex
  r: number;
  /** LoRA scale s: lora_alpha / r, or lora_alpha / √r with rsLoRA (loraScale). */
  scale: number;
  B: number; // sequences per step
  T: number; // tokens per sequence (≤ max_position_embeddings and any sliding window)
  seed?: number;
  useDora?: boolean;
  /** PEFT lora_dropout p on the LoRA input in training steps (default 0); not with DoRA. */
  loraDropout?: number;
  dropoutSeed?: number;
  /** Frozen weights in their stored precision (default: a BF16/F16 checkpoint stays packed) or all F32 (../frozen.ts). */
  frozenWeights?: FrozenWeights;
  /** Activation checkpointing: keep only each block's input and recompute its forward in the backward (../block.ts). */
  recompute?: boolean;
}

export class LlamaLoraModel extends CausalLmEngine<LlamaParts> {
  private constructor(parts: LlamaParts, readonly source: LlamaSource, passes: LmPasses, baseNorms: BaseNorms) {
    super(parts, passes, baseNorms, source.config.vocab_size, 'llama');
  }

  static async create(ctx: GpuContext, src: LlamaSource, o: LlamaLoraOptions): Promise<LlamaLoraModel> {
    const spec = llamaSpecOf(src.config, src.tied);
    checkLlamaLength(src.config, o.T, 'a training sequence');
    // The vocabulary is split in row chunks only where embed_tokens / lm_head or the (B·T, V) logits exceed the binding limit.
    // DoRA's base row norms are taken as each weight passes through (a streamed load keeps no copy).
    const norms = new Map<string, Float32Array>();
    const vocab = splitVocab(ctx, src.config.vocab_size, spec.C, o.B * o.T, LLAMA_EMBED);
    const weights = await uploadLlamaWeights(ctx, src, spec, o.T, vocab, o.frozenWeights, o.useDora ? BaseNorms.collector(norms) : undefined);
    const layout = new ArenaLayout(ctx.limits.minStorageBufferOffsetAlignment);
    const slots = layoutSlots(layout, llamaLoraModules(src, spec), o, spec.family);
    const arena = TrainableArena.create(ctx, layout, 'lora');
    const byPath = new Map(slots.map((s) => [s.path, s]));
    const acts = ctx.allocations.during('activations', () => planLlamaActs(ctx, spec, src.config.vocab_size, o.B, o.T, byPath, weights.vocab, o.recompute ?? false));
    const parts: LlamaParts = { ctx, spec, V: src.config.vocab_size, weights, blocks: weights.layers, rope: weights.rope, slots, byPath, arena, acts };
    await arena.gradOps.ready();
    const passes = await prepareLmPasses(ctx, parts, o, { forward: prepareForward, loss: prepareLoss, backward: prepareBackward }, 'llama');
    const model = new LlamaLoraModel(parts, src, passes, new BaseNorms(src.tensors, norms));
    model.initLora(o.seed ?? 0);
    model.resetOptimizer();
    return model;
  }

  protected prepareLossBackward(scale: number): Promise<Launch[]> {
    return prepareLossBackward(this.parts, scale);
  }

  protected destroyModel(): void {
    destroyLlamaActs(this.parts.acts);
    destroyLlamaWeights(this.parts.weights);
  }

  /**
   * Overwrites the frozen weight of `model.layers.{l}.<self_attn.q_proj … mlp.down_proj>`; w in the stored
   * nn.Linear layout [out, in]. The caller keeps the CPU copy (LoRASC noise, COLA merges).
   */
  setBaseWeight(path: string, w: Float32Array): void {
    const { spec } = this.parts;
    const m = /^model\.layers\.(\d+)\.(.+)$/.exec(path);
    const layer = m ? Number(m[1]) : -1;
    const module = m?.[2] ?? '';
    if (!m || layer >= spec.L || !(LLAMA_MODULES as readonly string[]).includes(module)) {
      throw new Error(`setBaseWeight: '${path}' is not a linear module of this ${spec.family} (model.layers.{0..${spec.L - 1}}.{${LLAMA_MODULES.join(',')}})`);
    }
    const lin = this.parts.weights.layers[layer].linear[module];
    if (w.length !== lin.IN * lin.OUT) throw new Error(`setBaseWeight: '${path}' has ${w.length} values; expected ${lin.IN * lin.OUT} ([out, in] = [${lin.OUT}, ${lin.IN}])`);
    // Rounding a rewritten base (noise, merged deltas) back to BF16/F16 would drop most of what was added
    // (docs/engineering.md#frozen-weights): the methods that rewrite it build their engine with F32 weights.
    if (isPackedFormat(lin.format)) throw new Error(`setBaseWeight: '${path}' is held as packed ${lin.format.toUpperCase()}; rewriting a base weight needs the engine created with frozenWeights 'f32'`);
    this.parts.ctx.write(lin.w, w);
    const slot = this.parts.byPath.get(path);
    if (slot?.m) this.baseNorms.set(slot, w);
  }
}
