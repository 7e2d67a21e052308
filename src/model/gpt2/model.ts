// Gpt2LoraModel: a frozen GPT-2 with LoRA adapters, trained on the GPU. One submit per training step
// (forward, loss, backward) and one 8-byte readback (the loss); AdamW is a second submit.
import type { GpuContext, Launch } from '../../gpu/context';
import type { LoadedGpt2 } from '../../io/hfModel';
import { type ModuleSelector, loraModules } from '../../io/peft';
import { BaseNorms, initialLoraValues, layoutSlots } from '../adaptedLinear';
import { type AdamWStepOptions, type OptimizerScope, type OptimizerState, type PerTensor, type TrainableEntryInfo, type TrainableModel } from '../api';
import { ArenaLayout, TrainableArena, type TrainableEntry } from '../arena';
import { DropoutStreams } from '../lora_dropout';
import { validateIds } from '../../kernels/embedding';
import { IGNORE_INDEX, meanLossScale } from '../../ref/softmax_xent';
import { prepareBackward, prepareLossBackward } from './backward';
import { gpt2Spec } from '../families/gpt2';
import { type Gpt2Parts, prepareForward, prepareLoss } from './forward';
import { readVocabColumns, splitVocab } from '../../kernels/vocab_split';
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
}

/** AdamW hyper-parameters; weightDecay defaults to 0 (docs/method.md#defaults). */
export type AdamWOptions = AdamWStepOptions;

const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export class Gpt2LoraModel implements TrainableModel<Uint32Array> {
  /**
   * Training steps taken with LoRA dropout: step t draws its masks from Philox counters t·S + k (see
   * ../lora_dropout.ts). Set it to resume a run reproducibly.
   */
  dropoutStep = 0;
  private readonly lossBackward = new Map<number, Launch[]>();

  private constructor(
    readonly parts: Gpt2Parts,
    private readonly forward: Launch[], // eval: never drops
    private readonly loss: Launch[],
    private readonly backward: Launch[],
    private readonly baseNorms: BaseNorms,
    private readonly train: { forward: Launch[]; dropout: DropoutStreams } | undefined, // with LoRA dropout
  ) {}

  static async create(ctx: GpuContext, loaded: LoadedGpt2, o: Gpt2LoraOptions): Promise<Gpt2LoraModel> {
    const config = loaded.config;
    const spec = gpt2Spec(loaded);
    // The vocabulary is split in row chunks only where wte or the (B·T, V) logits exceed the binding limit.
    const weights = uploadGpt2Weights(ctx, loaded, spec, splitVocab(ctx, config.vocab_size, config.n_embd, o.B * o.T, 'wte.weight'));
    const layout = new ArenaLayout(ctx.limits.minStorageBufferOffsetAlignment);
    const slots = layoutSlots(layout, loraModules(loaded), o, 'GPT-2');
    const arena = TrainableArena.create(ctx, layout, 'lora');
    const byPath = new Map(slots.map((s) => [s.path, s]));
    const acts = planGpt2Acts(ctx, spec, config, o.B, o.T, byPath, weights.vocab);
    const parts: Gpt2Parts = { ctx, spec, config, weights, blocks: weights.layers, slots, byPath, arena, acts };
    await arena.gradOps.ready();
    const p = o.loraDropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new Error(`GPT-2: loraDropout=${p} must be in [0, 1)`);
    if (p > 0 && o.useDora) throw new Error('GPT-2: loraDropout with useDora is not supported (PEFT\'s DoRA dropout form is not implemented)');
    let train: { forward: Launch[]; dropout: DropoutStreams } | undefined;
    let backward: Launch[];
    if (p > 0) {
      const dropout = await DropoutStreams.create(ctx, p, o.dropoutSeed ?? o.seed ?? 0, o.B * o.T, slots.map((s) => s.IN), 'gpt2');
      const trainParts = { ...parts, dropout };
      train = { forward: await prepareForward(trainParts), dropout };
      backward = await prepareBackward(trainParts);
    } else {
      backward = await prepareBackward(parts);
    }
    const model = new Gpt2LoraModel(parts, await prepareForward(parts), await prepareLoss(parts), backward, new BaseNorms(loaded.tensors), train);
    model.initLora(o.seed ?? 0);
    model.resetOptimizer();
    return model;
  }

  /** The trainable table (PEFT names, shapes, offsets into the flat buffers). */
  get table(): readonly TrainableEntry[] {
    return this.parts.arena.table;
  }

  trainableEntries(): TrainableEntryInfo[] {
    return this.table.map((e) => ({ name: e.name, shape: [...e.shape] }));
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

  /**
   * PEFT's default init: A ~ U(−1/√in, 1/√in) (kaiming_uniform, a = √5), B = 0: a no-op adapter. DoRA's
   * m = row norms of the CURRENT base weight (after any setBaseWeight), so DoRA also starts as a no-op.
   */
  initLora(seed: number): void {
    this.parts.arena.write('params', initialLoraValues(this.parts.slots, seed, this.baseNorms), true, 'LoRA');
  }

  /** Sets trainable tensors by PEFT name; every name must be in the table with the right size. */
  setLoraWeights(values: ReadonlyMap<string, Float32Array>): void {
    this.parts.arena.write('params', values, false, 'LoRA');
  }

  private writeInputs(inputIds: Uint32Array, labels?: Int32Array): void {
    const { ctx, acts, config } = this.parts;
    const n = acts.B * acts.T;
    if (inputIds.length !== n) throw new Error(`GPT-2: ${inputIds.length} input ids; expected B·T = ${n}`);
    validateIds(inputIds, config.vocab_size);
    ctx.write(acts.ids, inputIds);
    if (!labels) return;
    if (labels.length !== n) throw new Error(`GPT-2: ${labels.length} labels; expected B·T = ${n}`);
    labels.forEach((t, i) => {
      if (t !== IGNORE_INDEX && !(t >= 0 && t < config.vocab_size)) throw new Error(`GPT-2: label ${t} at ${i} is outside [0, ${config.vocab_size}) and not ${IGNORE_INDEX}`);
    });
    ctx.write(acts.targets, labels);
  }

  /** Logits (B, T, V) of the adapted model, no loss or gradients. */
  async forwardLogits(inputIds: Uint32Array): Promise<Float32Array> {
    const { ctx, acts } = this.parts;
    this.writeInputs(inputIds);
    ctx.submit(this.forward, 'gpt2/forward');
    return readVocabColumns(ctx, acts.logitsChunks, acts.B * acts.T, acts.vocab);
  }

  /** Mean loss over the targets ≠ −100 and their count; forward and loss only, gradients untouched. */
  async evalLoss(inputIds: Uint32Array, labels: Int32Array): Promise<{ loss: number; count: number }> {
    const { ctx, acts } = this.parts;
    this.writeInputs(inputIds, labels);
    ctx.submit([...this.forward, ...this.loss], 'gpt2/eval');
    const [loss, count] = await ctx.readF32(acts.loss, 2);
    return { loss, count };
  }

  /** Forward + loss + backward in one submit; grads are zeroed first (one fresh gradient per step). */
  async step(inputIds: Uint32Array, labels: Int32Array): Promise<{ loss: number }> {
    const { ctx, acts, arena } = this.parts;
    this.writeInputs(inputIds, labels);
    arena.clearGrads();
    const scale = meanLossScale(labels);
    let lossBackward = this.lossBackward.get(scale);
    if (!lossBackward) {
      lossBackward = await prepareLossBackward(this.parts, scale);
      this.lossBackward.set(scale, lossBackward);
    }
    if (this.train) this.train.dropout.setStep(this.dropoutStep++);
    const forward = this.train?.forward ?? this.forward;
    ctx.submit([...forward, ...this.loss, ...lossBackward, ...this.backward], 'gpt2/step');
    const loss = await ctx.readF32(acts.loss, 2);
    return { loss: loss[0] };
  }

  /** Gradients of the last step, by PEFT name. */
  async readGrads(): Promise<Map<string, Float32Array>> {
    return this.parts.arena.read('grads');
  }

  writeGrads(values: ReadonlyMap<string, Float32Array>): void {
    this.parts.arena.write('grads', values, true, 'LoRA');
  }

  async gradNorm(): Promise<number> {
    return this.parts.arena.gradOps.norm();
  }

  scaleGrads(factor: number): void {
    this.parts.arena.gradOps.scale(factor);
  }

  async nonFiniteGrads(): Promise<number> {
    return this.parts.arena.gradOps.nonFinite();
  }

  async readLoraWeights(): Promise<Map<string, Float32Array>> {
    return this.parts.arena.read('params');
  }

  /** Zeroes the AdamW moments and step counts (a fresh optimizer, as COLA/LoRASC need per link); GPT-2 trains the adapter only, so both scopes are every tensor. */
  resetOptimizer(_scope: OptimizerScope = 'all'): void {
    this.parts.arena.resetOptimizer();
  }

  /** The AdamW moments (two flat readbacks, split by the table), t and the dropout counter. */
  async readOptimizerState(): Promise<OptimizerState> {
    return this.parts.arena.readOptimizerState(this.dropoutStep);
  }

  setOptimizerState(state: OptimizerState): void {
    this.dropoutStep = this.parts.arena.setOptimizerState(state);
  }

  /** One AdamW step (PyTorch order), one group per table entry (LoRA+ lr and decay per tensor); decay 0 unless given. */
  async adamwStep(lr: PerTensor, o: AdamWStepOptions = {}): Promise<void> {
    await this.parts.arena.adamwStep(lr, o, ADAMW_DEFAULTS, 'gpt2/adamw');
  }

  destroy(): void {
    for (const l of [...this.forward, ...this.loss, ...this.backward, ...[...this.lossBackward.values()].flat(), ...this.train?.forward ?? []]) l.destroy();
    this.train?.dropout.destroy();
    destroyGpt2Acts(this.parts.acts);
    destroyGpt2Weights(this.parts.weights);
    this.parts.arena.destroy();
  }
}
