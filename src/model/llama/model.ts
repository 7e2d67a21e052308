// LlamaLoraModel: a frozen Llama-family model (Llama, Mistral, Qwen2, Qwen3) with LoRA or DoRA adapters on
// any of q_proj … down_proj, trained on the GPU, with the surface of Gpt2LoraModel (../api.ts). One submit
// per training step (forward, loss, backward) and one 8-byte readback (the loss); AdamW is a second submit.
import type { GpuContext, Launch } from '../../gpu/context';
import type { ModuleSelector } from '../../io/peft';
import { validateIds } from '../../kernels/embedding';
import { IGNORE_INDEX, meanLossScale } from '../../ref/softmax_xent';
import { BaseNorms, initialLoraValues, layoutSlots } from '../adaptedLinear';
import { type AdamWStepOptions, type OptimizerScope, type OptimizerState, type PerTensor, type TrainableEntryInfo, type TrainableModel } from '../api';
import { ArenaLayout, TrainableArena, type TrainableEntry } from '../arena';
import { LLAMA_MODULES, type LlamaSource, checkLlamaLength, llamaLoraModules, llamaSpecOf } from '../families/llama';
import { DropoutStreams } from '../lora_dropout';
import { type LlamaParts, prepareBackward, prepareForward, prepareLoss, prepareLossBackward } from './forward';
import { destroyLlamaActs, planLlamaActs } from './plan';
import { destroyLlamaWeights, uploadLlamaWeights } from './weights';

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
}

const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export class LlamaLoraModel implements TrainableModel<Uint32Array> {
  /** Training steps taken with LoRA dropout (the masks' Philox counters); set it to resume reproducibly. */
  dropoutStep = 0;
  private readonly lossBackward = new Map<number, Launch>();

  private constructor(
    readonly parts: LlamaParts,
    readonly source: LlamaSource,
    private readonly forward: Launch[],
    private readonly loss: Launch[],
    private readonly backward: Launch[],
    private readonly baseNorms: BaseNorms,
    private readonly train: { forward: Launch[]; dropout: DropoutStreams } | undefined,
  ) {}

  static async create(ctx: GpuContext, src: LlamaSource, o: LlamaLoraOptions): Promise<LlamaLoraModel> {
    const spec = llamaSpecOf(src.config, src.tied);
    checkLlamaLength(src.config, o.T, 'a training sequence');
    const weights = uploadLlamaWeights(ctx, src, spec, o.T);
    const layout = new ArenaLayout(ctx.limits.minStorageBufferOffsetAlignment);
    const slots = layoutSlots(layout, llamaLoraModules(src, spec), o, spec.family);
    const arena = TrainableArena.create(ctx, layout, 'lora');
    const byPath = new Map(slots.map((s) => [s.path, s]));
    const acts = planLlamaActs(ctx, spec, src.config.vocab_size, o.B, o.T, byPath);
    const parts: LlamaParts = { ctx, spec, V: src.config.vocab_size, weights, blocks: weights.layers, rope: weights.rope, slots, byPath, arena, acts };
    await arena.gradOps.ready();
    const p = o.loraDropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new Error(`${spec.family}: loraDropout=${p} must be in [0, 1)`);
    if (p > 0 && o.useDora) throw new Error(`${spec.family}: loraDropout with useDora is not supported (PEFT's DoRA dropout form is not implemented)`);
    let train: { forward: Launch[]; dropout: DropoutStreams } | undefined;
    let backward: Launch[];
    if (p > 0) {
      const dropout = await DropoutStreams.create(ctx, p, o.dropoutSeed ?? o.seed ?? 0, o.B * o.T, slots.map((s) => s.IN), 'llama');
      const trainParts = { ...parts, dropout };
      train = { forward: await prepareForward(trainParts), dropout };
      backward = await prepareBackward(trainParts);
    } else {
      backward = await prepareBackward(parts);
    }
    const model = new LlamaLoraModel(parts, src, await prepareForward(parts), await prepareLoss(parts), backward, new BaseNorms(src.tensors), train);
    model.initLora(o.seed ?? 0);
    model.resetOptimizer();
    return model;
  }

  get table(): readonly TrainableEntry[] {
    return this.parts.arena.table;
  }

  trainableEntries(): TrainableEntryInfo[] {
    return this.table.map((e) => ({ name: e.name, shape: [...e.shape] }));
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
    this.parts.ctx.write(lin.w, w);
    const slot = this.parts.byPath.get(path);
    if (slot?.m) this.baseNorms.set(slot, w);
  }

  /** PEFT's init: A ~ U(−1/√in, 1/√in), B = 0; DoRA's m = row norms of the current base weight. */
  initLora(seed: number): void {
    this.parts.arena.write('params', initialLoraValues(this.parts.slots, seed, this.baseNorms), true, 'LoRA');
  }

  setLoraWeights(values: ReadonlyMap<string, Float32Array>): void {
    this.parts.arena.write('params', values, false, 'LoRA');
  }

  private writeInputs(inputIds: Uint32Array, labels?: Int32Array): void {
    const { ctx, acts, V, spec } = this.parts;
    const n = acts.B * acts.T;
    if (inputIds.length !== n) throw new Error(`${spec.family}: ${inputIds.length} input ids; expected B·T = ${n}`);
    validateIds(inputIds, V);
    ctx.write(acts.ids, inputIds);
    if (!labels) return;
    if (labels.length !== n) throw new Error(`${spec.family}: ${labels.length} labels; expected B·T = ${n}`);
    labels.forEach((t, i) => {
      if (t !== IGNORE_INDEX && !(t >= 0 && t < V)) throw new Error(`${spec.family}: label ${t} at ${i} is outside [0, ${V}) and not ${IGNORE_INDEX}`);
    });
    ctx.write(acts.targets, labels);
  }

  /** Logits (B, T, V) of the adapted model, no loss or gradients. */
  async forwardLogits(inputIds: Uint32Array): Promise<Float32Array> {
    const { ctx, acts, V } = this.parts;
    this.writeInputs(inputIds);
    ctx.submit(this.forward, 'llama/forward');
    return ctx.readF32(acts.logits, acts.B * acts.T * V);
  }

  async evalLoss(inputIds: Uint32Array, labels: Int32Array): Promise<{ loss: number; count: number }> {
    const { ctx, acts } = this.parts;
    this.writeInputs(inputIds, labels);
    ctx.submit([...this.forward, ...this.loss], 'llama/eval');
    const [loss, count] = await ctx.readF32(acts.loss, 2);
    return { loss, count };
  }

  /** Forward + loss + backward in one submit; grads are zeroed first. */
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
    ctx.submit([...forward, ...this.loss, lossBackward, ...this.backward], 'llama/step');
    const loss = await ctx.readF32(acts.loss, 2);
    return { loss: loss[0] };
  }

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

  /** The adapter is every trainable tensor (no task head), so both scopes reset all of them. */
  resetOptimizer(_scope: OptimizerScope = 'all'): void {
    this.parts.arena.resetOptimizer();
  }

  async readOptimizerState(): Promise<OptimizerState> {
    return this.parts.arena.readOptimizerState(this.dropoutStep);
  }

  setOptimizerState(state: OptimizerState): void {
    this.dropoutStep = this.parts.arena.setOptimizerState(state);
  }

  async adamwStep(lr: PerTensor, o: AdamWStepOptions = {}): Promise<void> {
    await this.parts.arena.adamwStep(lr, o, ADAMW_DEFAULTS, 'llama/adamw');
  }

  destroy(): void {
    for (const l of [...this.forward, ...this.loss, ...this.backward, ...this.lossBackward.values(), ...this.train?.forward ?? []]) l.destroy();
    this.train?.dropout.destroy();
    destroyLlamaActs(this.parts.acts);
    destroyLlamaWeights(this.parts.weights);
    this.parts.arena.destroy();
  }
}
