// Gpt2LoraModel: a frozen GPT-2 with LoRA adapters, trained on the GPU. One submit per training step
// (forward, loss, backward) and one 8-byte readback (the loss); AdamW is a second submit.
import type { GpuContext, Launch } from '../../gpu/context';
import type { LoadedGpt2 } from '../../io/hfModel';
import { prepareAdamW } from '../../kernels/adamw';
import { type AdamWStepOptions, type OptimizerState, type PerTensor, type TrainableEntryInfo, type TrainableModel, checkOptimizerState, valueFor } from '../api';
import { rowNorms } from '../dora';
import { GradOps } from '../gradops';
import { DropoutStreams } from '../lora_dropout';
import { validateIds } from '../../kernels/embedding';
import { IGNORE_INDEX, meanLossScale } from '../../ref/softmax_xent';
import { prepareBackward, prepareLossBackward } from './backward';
import { type Gpt2Parts, prepareForward, prepareLoss, slotsByPath } from './forward';
import { type TargetModules, type TrainableEntry, createTrainableBuffers, layoutLora } from './lora';
import { destroyGpt2Acts, planGpt2Acts } from './plan';
import { GPT2_MODULES, type Gpt2Module, destroyGpt2Weights, moduleDims, uploadGpt2Weights } from './weights';

export interface Gpt2LoraOptions {
  targetModules: TargetModules; // PEFT target_modules
  r: number; // LoRA rank R
  loraAlpha: number; // s = lora_alpha / r
  B: number; // sequences per step
  T: number; // tokens per sequence (≤ n_positions)
  /** Seed of the default init (A ~ kaiming-uniform, bound 1/√in; B = 0). */
  seed?: number;
  /** DoRA (METHOD.md): a trainable magnitude per targeted module, initialised to W0's row norms. */
  useDora?: boolean;
  /** PEFT lora_dropout p on the LoRA input in training steps (default 0: none); not with DoRA. */
  loraDropout?: number;
  /** Key of the dropout masks' Philox stream (default: seed). */
  dropoutSeed?: number;
}

/** AdamW hyper-parameters; weightDecay defaults to 0 (METHOD.md LoRA defaults). */
export type AdamWOptions = AdamWStepOptions;

export class Gpt2LoraModel implements TrainableModel<Uint32Array> {
  private adamT = 0;
  /**
   * Training steps taken with LoRA dropout: step t draws its masks from Philox counters t·S + k (see
   * ../lora_dropout.ts). Set it to resume a run reproducibly.
   */
  dropoutStep = 0;
  /** DoRA: row norms of each targeted module's current base weight ([out, in] rows), for initLora. */
  private readonly baseNorms = new Map<string, Float32Array>();
  private readonly lossBackward = new Map<number, Launch>();

  private constructor(
    readonly parts: Gpt2Parts,
    private readonly forward: Launch[], // eval: never drops
    private readonly loss: Launch[],
    private readonly backward: Launch[],
    private readonly gradOps: GradOps,
    private readonly train: { forward: Launch[]; dropout: DropoutStreams } | undefined, // with LoRA dropout
  ) {}

  static async create(ctx: GpuContext, loaded: LoadedGpt2, o: Gpt2LoraOptions): Promise<Gpt2LoraModel> {
    const config = loaded.config;
    const weights = uploadGpt2Weights(ctx, loaded);
    const lora = layoutLora(config, o.targetModules, o.r, o.loraAlpha, ctx.limits.minStorageBufferOffsetAlignment, o.useDora);
    const trainable = createTrainableBuffers(ctx, lora);
    const modules = (layer: number) => lora.slots.filter((s) => s.layer === layer).map((s) => s.module);
    const acts = planGpt2Acts(ctx, config, o.B, o.T, { R: o.r, modules, dora: lora.dora });
    const parts: Gpt2Parts = { ctx, config, weights, lora, slots: slotsByPath(lora), trainable, acts };
    const gradOps = new GradOps(ctx, lora.table.map((e) => ({ buffer: trainable.grads, offset: e.offset, n: e.numel })));
    await gradOps.ready();
    const p = o.loraDropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new Error(`GPT-2: loraDropout=${p} must be in [0, 1)`);
    if (p > 0 && o.useDora) throw new Error('GPT-2: loraDropout with useDora is not supported (PEFT\'s DoRA dropout form is not implemented)');
    let train: { forward: Launch[]; dropout: DropoutStreams } | undefined;
    let backward: Launch[];
    if (p > 0) {
      const dropout = await DropoutStreams.create(ctx, p, o.dropoutSeed ?? o.seed ?? 0, o.B * o.T, lora.slots.map((s) => s.IN), 'gpt2');
      const trainParts = { ...parts, dropout };
      train = { forward: await prepareForward(trainParts), dropout };
      backward = await prepareBackward(trainParts);
    } else {
      backward = await prepareBackward(parts);
    }
    const model = new Gpt2LoraModel(parts, await prepareForward(parts), await prepareLoss(parts), backward, gradOps, train);
    for (const s of lora.slots) {
      if (s.m) model.baseNorms.set(s.path, rowNorms(loaded.tensors.get(`h.${s.layer}.${s.module}.weight`)!.data, s.IN, s.OUT, true));
    }
    model.initLora(o.seed ?? 0);
    model.resetOptimizer();
    return model;
  }

  /** The trainable table (PEFT names, shapes, offsets into the flat buffers). */
  get table(): readonly TrainableEntry[] {
    return this.parts.lora.table;
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
    if (this.baseNorms.has(path)) this.baseNorms.set(path, rowNorms(w, IN, OUT, true));
  }

  /**
   * PEFT's default init: A ~ U(−1/√in, 1/√in) (kaiming_uniform, a = √5), B = 0: a no-op adapter. DoRA's
   * m = row norms of the CURRENT base weight (after any setBaseWeight), so DoRA also starts as a no-op.
   */
  initLora(seed: number): void {
    let x = (Math.imul(seed, 2654435761) + 12345) >>> 0;
    const values = new Map<string, Float32Array>();
    for (const e of this.table) {
      const d = new Float32Array(e.numel);
      if (e.name.endsWith('lora_A.weight')) {
        const bound = 1 / Math.sqrt(e.shape[1]);
        for (let i = 0; i < d.length; i++) {
          x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
          d[i] = ((x / 4294967296) * 2 - 1) * bound;
        }
      }
      const norms = this.parts.lora.slots.find((s) => s.m === e)?.path;
      if (norms) d.set(this.baseNorms.get(norms)!);
      values.set(e.name, d);
    }
    this.writeFlat(this.parts.trainable.params, values, true);
  }

  /** Sets trainable tensors by PEFT name; every name must be in the table with the right size. */
  setLoraWeights(values: ReadonlyMap<string, Float32Array>): void {
    this.writeFlat(this.parts.trainable.params, values, false);
  }

  private writeFlat(buffer: GPUBuffer, values: ReadonlyMap<string, Float32Array>, requireAll: boolean): void {
    const byName = new Map(this.table.map((e) => [e.name, e]));
    for (const [name, data] of values) {
      const e = byName.get(name);
      if (!e) throw new Error(`LoRA: ${name} is not a trainable tensor of this model`);
      if (data.length !== e.numel) throw new Error(`LoRA: ${name} has ${data.length} values; expected ${e.numel} (${e.shape.join('×')})`);
      this.parts.ctx.write(buffer, data, e.offset * 4);
    }
    if (requireAll && values.size !== byName.size) throw new Error('LoRA: not every trainable tensor was written');
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
    return ctx.readF32(acts.logits, acts.B * acts.T * this.parts.config.vocab_size);
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
    const { ctx, acts, trainable, lora } = this.parts;
    this.writeInputs(inputIds, labels);
    ctx.write(trainable.grads, new Float32Array(lora.totalElems));
    const scale = meanLossScale(labels);
    let lossBackward = this.lossBackward.get(scale);
    if (!lossBackward) {
      lossBackward = await prepareLossBackward(this.parts, scale);
      this.lossBackward.set(scale, lossBackward);
    }
    if (this.train) this.train.dropout.setStep(this.dropoutStep++);
    const forward = this.train?.forward ?? this.forward;
    ctx.submit([...forward, ...this.loss, lossBackward, ...this.backward], 'gpt2/step');
    const loss = await ctx.readF32(acts.loss, 2);
    return { loss: loss[0] };
  }

  /** Gradients of the last step, by PEFT name. */
  async readGrads(): Promise<Map<string, Float32Array>> {
    return this.readFlat(this.parts.trainable.grads);
  }

  writeGrads(values: ReadonlyMap<string, Float32Array>): void {
    this.writeFlat(this.parts.trainable.grads, values, true);
  }

  async gradNorm(): Promise<number> {
    return this.gradOps.norm();
  }

  scaleGrads(factor: number): void {
    this.gradOps.scale(factor);
  }

  async nonFiniteGrads(): Promise<number> {
    return this.gradOps.nonFinite();
  }

  /** Current LoRA weights, by PEFT name (for checkpoints and export). */
  async readLoraWeights(): Promise<Map<string, Float32Array>> {
    return this.readFlat(this.parts.trainable.params);
  }

  private async readFlat(buffer: GPUBuffer): Promise<Map<string, Float32Array>> {
    const all = await this.parts.ctx.readF32(buffer, this.parts.lora.totalElems);
    return new Map(this.table.map((e) => [e.name, all.slice(e.offset, e.offset + e.numel)]));
  }

  /** Zeroes the AdamW moments and the step count (a fresh optimizer, as COLA/LoRASC need per link). */
  resetOptimizer(): void {
    const { ctx, trainable, lora } = this.parts;
    const zeros = new Float32Array(lora.totalElems);
    ctx.write(trainable.m, zeros);
    ctx.write(trainable.v, zeros);
    this.adamT = 0;
  }

  /** The AdamW moments (two flat readbacks, split by the table), t and the dropout counter. */
  async readOptimizerState(): Promise<OptimizerState> {
    const { trainable } = this.parts;
    return { m: await this.readFlat(trainable.m), v: await this.readFlat(trainable.v), step: this.adamT, dropoutStep: this.dropoutStep };
  }

  /** Writes every entry's moments at its offset; the padding between entries keeps its zeros. */
  setOptimizerState(state: OptimizerState): void {
    checkOptimizerState(state, this.table);
    const { ctx, trainable } = this.parts;
    for (const e of this.table) {
      ctx.write(trainable.m, state.m.get(e.name) as Float32Array, e.offset * 4);
      ctx.write(trainable.v, state.v.get(e.name) as Float32Array, e.offset * 4);
    }
    this.adamT = state.step;
    this.dropoutStep = state.dropoutStep;
  }

  /**
   * One AdamW step (PyTorch order, bias corrections for step t), one group per table entry so that lr
   * and weight decay can differ per tensor (LoRA+: lora_B at lr × ratio). Padding between entries is
   * never touched (it holds zeros).
   */
  async adamwStep(lr: PerTensor, o: AdamWStepOptions = {}): Promise<void> {
    const { ctx, trainable } = this.parts;
    this.adamT += 1;
    const hyper = { beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, t: this.adamT };
    const groups = this.table.map((e) => ({
      offset: e.offset, length: e.numel, lr: valueFor(lr, e.name), weightDecay: valueFor(o.weightDecay ?? 0, e.name),
    }));
    const buffers = { param: trainable.params, m: trainable.m, v: trainable.v, grad: trainable.grads };
    const launches = await prepareAdamW(ctx, groups, hyper, buffers);
    ctx.submit(launches, 'gpt2/adamw');
    for (const l of launches) l.destroy();
  }

  destroy(): void {
    for (const l of [...this.forward, ...this.loss, ...this.backward, ...this.lossBackward.values(), ...this.train?.forward ?? []]) l.destroy();
    this.gradOps.destroy();
    this.train?.dropout.destroy();
    destroyGpt2Acts(this.parts.acts);
    destroyGpt2Weights(this.parts.weights);
    const t = this.parts.trainable;
    for (const b of [t.params, t.grads, t.m, t.v]) b.destroy();
  }
}
