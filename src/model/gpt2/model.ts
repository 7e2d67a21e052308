// Gpt2LoraModel: a frozen GPT-2 with LoRA adapters, trained on the GPU, on the causal-LM surface every
// decoder family shares (../causalLm.ts); here only how it is built and which Conv1D weight a path names.
import type { GpuContext, Launch } from '../../gpu/context';
import type { LoadedGpt2 } from '../../io/hfModel';
import { type ModuleSelector, loraModules } from '../../io/peft';
import { BaseNorms, layoutSlots } from '../adaptedLinear';
import type { AdamWStepOptions } from '../api';
import { ArenaLayout, TrainableArena } from '../arena';
import { CausalLmEngine, prepareLmPasses } from '../causalLm';
import { prepareBackward, prepareLossBackward } from './backward';
import { gpt2Spec } from '../families/gpt2';
import { type Gpt2Parts, prepareForward, prepareLoss } from './forward';
import { splitVocab } from '../../kernels/vocab_split';
import { destroyGpt2Acts, planGpt2Acts } from './plan';
import { GPT2_MODULES, type Gpt2Module, destroyGpt2Weights, moduleDims, uploadGpt2Weights } from './weights';

export interface Gpt2LoraOptions {
  targetModules: ModuleSelector; // PEFT target_modules: suffixes, or a full-match regex
  r: number; // LoRA rank R
  /** LoRA scale s (y = W0·x + s·B·A·x): lora_alpha / r, or lora_alpha / √r with rsLoRA, computed once by loraScale. */
  scale: number;
  B: number; // sequences per step
  T: number; // tokens per sequence (≤ n_positions)
  /** Seed of the default init (A ~ kaiming-uniform, bound 1/√in; B = 0). */
  seed?: number;
  /** DoRA (docs/method.md#dora): a trainable magnitude per targeted module, initialised to W0's row norms. */
  useDora?: boolean;
  /** PEFT lora_dropout p on the LoRA input in training steps (default 0: none); not with DoRA. */
  loraDropout?: number;
  /** Key of the dropout masks' Philox stream (default: seed). */
  dropoutSeed?: number;
  /** Activation checkpointing: keep only each block's input and recompute its forward in the backward (../block.ts). */
  recompute?: boolean;
}

/** AdamW hyper-parameters; weightDecay defaults to 0 (docs/method.md#defaults). */
export type AdamWOptions = AdamWStepOptions;

export class Gpt2LoraModel extends CausalLmEngine<Gpt2Parts> {
  static async create(ctx: GpuContext, loaded: LoadedGpt2, o: Gpt2LoraOptions): Promise<Gpt2LoraModel> {
    const config = loaded.config;
    const spec = gpt2Spec(loaded);
    // The vocabulary is split in row chunks only where wte or the (B·T, V) logits exceed the binding limit.
    // DoRA's base row norms are taken as each weight passes through (a streamed load keeps no copy).
    const norms = new Map<string, Float32Array>();
    const weights = await uploadGpt2Weights(ctx, loaded, spec, splitVocab(ctx, config.vocab_size, config.n_embd, o.B * o.T, 'wte.weight'), o.useDora ? BaseNorms.collector(norms) : undefined);
    const layout = new ArenaLayout(ctx.limits.minStorageBufferOffsetAlignment);
    const slots = layoutSlots(layout, loraModules(loaded), o, 'GPT-2');
    const arena = TrainableArena.create(ctx, layout, 'lora');
    const byPath = new Map(slots.map((s) => [s.path, s]));
    const acts = ctx.allocations.during('activations', () => planGpt2Acts(ctx, spec, config, o.B, o.T, byPath, weights.vocab, o.recompute ?? false));
    const parts: Gpt2Parts = { ctx, spec, config, weights, blocks: weights.layers, slots, byPath, arena, acts };
    await arena.gradOps.ready();
    const passes = await prepareLmPasses(ctx, parts, o, { forward: prepareForward, loss: prepareLoss, backward: prepareBackward }, 'gpt2');
    const model = new Gpt2LoraModel(parts, passes, new BaseNorms(loaded.tensors, norms), config.vocab_size, 'gpt2');
    model.initLora(o.seed ?? 0);
    model.resetOptimizer();
    return model;
  }

  protected prepareLossBackward(scale: number): Promise<Launch[]> {
    return prepareLossBackward(this.parts, scale);
  }

  protected destroyModel(): void {
    destroyGpt2Acts(this.parts.acts);
    destroyGpt2Weights(this.parts.weights);
  }

  /**
   * Overwrites the frozen Conv1D weight of `transformer.h.{i}.<attn.c_attn|attn.c_proj|mlp.c_fc|mlp.c_proj>`;
   * w in the stored layout [in, out]. The caller keeps the CPU copy (LoRASC noise, COLA merges).
   */
  setBaseWeight(path: string, w: Float32Array): void {
    const m = /^transformer\.h\.(\d+)\.(.+)$/.exec(path);
    const layer = m ? Number(m[1]) : -1;
    const module = m?.[2] as Gpt2Module;
    if (!m || layer >= this.parts.config.n_layer || !GPT2_MODULES.includes(module)) {
      throw new Error(`setBaseWeight: '${path}' is not a linear module of this GPT-2 (transformer.h.{0..${this.parts.config.n_layer - 1}}.{${GPT2_MODULES.join(',')}})`);
    }
    const { IN, OUT } = moduleDims(this.parts.config, module);
    if (w.length !== IN * OUT) throw new Error(`setBaseWeight: '${path}' has ${w.length} values; expected ${IN * OUT} ([in, out] = [${IN}, ${OUT}])`);
    this.parts.ctx.write(this.parts.weights.layers[layer].linear[module].w, w);
    const slot = this.parts.byPath.get(path);
    if (slot?.m) this.baseNorms.set(slot, w);
  }
}
