// VitLoraModel: a ViTForImageClassification with PEFT LoRA on the targeted Linears and a trainable
// classifier head — the checkpoint's, or a fresh nn.Linear-initialised one when loaded.head.newHead
// (a ViTModel checkpoint without a classifier, or another class count) — on the WebGPU engine. Frozen
// weights are uploaded once, tensor by tensor (a streamed load is never held whole in JS); activations
// and launches are planned once per batch size and re-encoded every step; AdamW runs per trainable tensor.
import type { GpuContext, Launch } from '../../gpu/context';
import type { LoadedVit } from '../../io/hfModel';
import { tensorFloat32 } from '../../io/safetensors';
import { type AdamWStepOptions, type OptimizerScope, type OptimizerState, type PerTensor, type TrainableEntryInfo, type TrainableModel } from '../api';
import { BaseNorms, adapterEntries, initialLoraValues } from '../adaptedLinear';
import { DropoutStreams } from '../lora_dropout';
import { prepareVitBackward } from './backward';
import { type VitPass, prepareVitForward, prepareVitLoss } from './forward';
import type { FamilySpec } from '../families/spec';
import { vitSpec } from '../families/vit';
import { type VitActs, destroyVitActs, planVitActs, vitDims } from './plan';
import { DEFAULT_HEAD_SEED, type TrainableOptions, type VitTrainables, createTrainables, initClassifier } from './trainable';
import { VIT_LINEAR_MODULES, type VitLinearModule, type VitWeights, destroyVitWeights, uploadVitWeights } from './weights';

export interface VitAdamW {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface VitLoraOptions extends TrainableOptions {
  adamw: VitAdamW;
  /** PEFT lora_dropout p on the LoRA input in training steps (default 0: none); not with DoRA. */
  loraDropout?: number;
  /** Key of the dropout masks' Philox stream (default: seed, else 1). */
  dropoutSeed?: number;
  /** Activation checkpointing: keep only each block's input and recompute its forward in the backward (../block.ts). */
  recompute?: boolean;
}

interface Plan {
  acts: VitActs;
  forward: Launch[]; // to the logits; eval: never drops
  loss: Launch[]; // softmax-xent and its mean
  backward: Launch[];
  train?: { forward: Launch[]; dropout: DropoutStreams }; // with LoRA dropout
}

/**
 * The checkpoint's classifier, when the loader kept it (its class count is the task's), read once here: a
 * streamed load keeps no copy (it becomes the trainable head; the file's copy is only re-read by an export).
 */
async function checkpointClassifier(loaded: LoadedVit): Promise<{ weight: Float32Array; bias: Float32Array }> {
  const w = loaded.tensors.get('classifier.weight'), b = loaded.tensors.get('classifier.bias');
  if (!w || !b) throw new Error(`ViT engine: the checkpoint has no classifier and head.newHead is false (${loaded.head.reason ?? 'no reason given'})`);
  const classes = b.shape.reduce((n, d) => n * d, 1);
  if (classes !== loaded.head.numClasses) {
    throw new Error(`ViT engine: the checkpoint's classifier has ${classes} classes, the task ${loaded.head.numClasses}`);
  }
  return { weight: await tensorFloat32(w), bias: await tensorFloat32(b) };
}

export class VitLoraModel implements TrainableModel<Float32Array> {
  private readonly plans = new Map<number, Plan>();
  /**
   * Training steps taken with LoRA dropout: step t draws its masks from Philox counters t·S + k (see
   * ../lora_dropout.ts). Set it to resume a run reproducibly.
   */
  dropoutStep = 0;
  private lastB = 0; // batch size of the last step (whose grads readGrads returns)

  private constructor(
    readonly ctx: GpuContext,
    readonly loaded: LoadedVit,
    readonly weights: VitWeights,
    readonly trainables: VitTrainables,
    readonly options: VitLoraOptions,
    private readonly baseNorms: BaseNorms,
    readonly spec: FamilySpec,
  ) {}

  /**
   * Uploads the frozen backbone one tensor at a time (./weights.ts: a streamed load is read, uploaded and
   * dropped tensor by tensor; DoRA's base row norms are taken as each Linear passes through), then lays
   * out the adapter and the head. Nothing of the model is kept in JS.
   */
  static async create(ctx: GpuContext, loaded: LoadedVit, options: VitLoraOptions): Promise<VitLoraModel> {
    const cfg = loaded.config;
    const pDrop = options.loraDropout ?? 0;
    if (!(pDrop >= 0 && pDrop < 1)) throw new Error(`ViT: loraDropout=${pDrop} must be in [0, 1)`);
    if (pDrop > 0 && options.useDora) throw new Error('ViT: loraDropout with useDora is not supported (PEFT\'s DoRA dropout form is not implemented)');
    const spec = vitSpec(loaded);
    const norms = new Map<string, Float32Array>();
    const weights = await uploadVitWeights(ctx, loaded, spec, options.useDora ? BaseNorms.collector(norms) : undefined);
    try {
      const head = loaded.head.newHead
        ? initClassifier(cfg.hidden_size, loaded.head.numClasses, options.headSeed ?? DEFAULT_HEAD_SEED)
        : await checkpointClassifier(loaded);
      const baseNorms = new BaseNorms(loaded.tensors, norms);
      const trainables = createTrainables(ctx, loaded, options, head, baseNorms);
      return new VitLoraModel(ctx, loaded, weights, trainables, options, baseNorms, spec);
    } catch (e) {
      destroyVitWeights(weights);
      throw e;
    }
  }

  get numLabels(): number {
    return this.trainables.classifierB.numel;
  }

  trainableEntries(): TrainableEntryInfo[] {
    return this.trainables.arena.table.map((e) => ({ name: e.name, shape: [...e.shape] }));
  }

  /**
   * Overwrites the frozen weight of `vit.encoder.layer.{i}.<module>` (a Linear of VIT_LINEAR_MODULES);
   * w in nn.Linear layout [out, in]. The caller keeps the CPU copy (LoRASC noise, COLA merges).
   */
  setBaseWeight(path: string, w: Float32Array): void {
    const m = /^vit\.encoder\.layer\.(\d+)\.(.+)$/.exec(path);
    const layer = m ? Number(m[1]) : -1;
    const module = m?.[2] as VitLinearModule;
    const L = this.loaded.config.num_hidden_layers;
    if (!m || layer >= L || !VIT_LINEAR_MODULES.includes(module)) {
      throw new Error(`setBaseWeight: '${path}' is not a linear module of this ViT (vit.encoder.layer.{0..${L - 1}}.{${VIT_LINEAR_MODULES.join(',')}})`);
    }
    const lin = this.weights.layers[layer].linear[module];
    if (w.length !== lin.IN * lin.OUT) throw new Error(`setBaseWeight: '${path}' has ${w.length} values; expected ${lin.IN * lin.OUT} ([out, in] = [${lin.OUT}, ${lin.IN}])`);
    this.ctx.write(lin.w, w);
    const slot = this.trainables.byPath.get(path);
    if (slot?.m) this.baseNorms.set(slot, w);
  }

  /**
   * PEFT's init again for every LoRA slot (A as at create for this seed, B = 0; DoRA's m = row norms of the
   * CURRENT base weight, after any setBaseWeight); the classifier keeps its values.
   */
  initLora(seed: number): void {
    this.trainables.arena.write('params', initialLoraValues(this.trainables.slots, seed, this.baseNorms), false);
  }

  /** Sets trainable tensors by name (PEFT LoRA keys, `classifier.weight`/`.bias`); unknown names throw. */
  setLoraWeights(values: ReadonlyMap<string, Float32Array>): void {
    this.trainables.arena.write('params', values, false, 'setLoraWeights');
  }

  private async plan(B: number): Promise<Plan> {
    let p = this.plans.get(B);
    if (!p) {
      const { ctx, weights: w, trainables: t } = this;
      const acts = ctx.allocations.during('activations', () => planVitActs(ctx, this.spec, vitDims(this.loaded.config, this.numLabels, B), t, this.options.recompute ?? false));
      const pDrop = this.options.loraDropout ?? 0;
      const dropout = pDrop > 0
        ? await DropoutStreams.create(ctx, pDrop, this.options.dropoutSeed ?? this.options.seed ?? 1, acts.dims.N,
          t.slots.map((s) => s.IN), `vit/B${B}`)
        : undefined;
      const pass: VitPass = { ctx, spec: this.spec, blocks: w.layers, acts, byPath: t.byPath, arena: t.arena, weights: w, t };
      p = {
        acts,
        forward: await prepareVitForward(pass),
        loss: await prepareVitLoss(ctx, acts),
        backward: await prepareVitBackward({ ...pass, dropout }),
        train: dropout && { forward: await prepareVitForward({ ...pass, dropout }), dropout },
      };
      this.plans.set(B, p);
    }
    return p;
  }

  private async load(pixels: Float32Array): Promise<Plan> {
    const { Cin, H, W } = vitDims(this.loaded.config, this.numLabels, 1);
    const B = pixels.length / (Cin * H * W);
    if (!Number.isInteger(B) || B < 1) throw new Error(`pixels: ${pixels.length} values is not a whole batch of (${Cin}, ${H}, ${W}) images`);
    const p = await this.plan(B);
    this.ctx.write(p.acts.images, pixels);
    return p;
  }

  private async loadLabelled(pixels: Float32Array, labels: Int32Array): Promise<Plan> {
    const p = await this.load(pixels);
    const { B, NL } = p.acts.dims;
    if (labels.length !== B) throw new Error(`labels: ${labels.length} for a batch of ${B}`);
    labels.forEach((y, i) => {
      if (!Number.isInteger(y) || y < 0 || y >= NL) throw new Error(`labels[${i}] = ${y} is not a class in [0, ${NL})`);
    });
    this.ctx.write(p.acts.labels, labels);
    return p;
  }

  /** Encodes buffer clears, then the launches, in one command buffer and one compute pass. */
  private submit(clears: GPUBuffer[], launches: Launch[], label: string): void {
    const enc = this.ctx.device.createCommandEncoder({ label });
    for (const b of clears) enc.clearBuffer(b);
    const pass = enc.beginComputePass({ label });
    for (const l of launches) l.encode(pass);
    pass.end();
    this.ctx.device.queue.submit([enc.finish()]);
  }

  /** Forward + backward on one batch: fresh grads of every trainable tensor; returns the mean loss. */
  async step(pixels: Float32Array, labels: Int32Array): Promise<{ loss: number }> {
    const p = await this.loadLabelled(pixels, labels);
    const { B } = p.acts.dims;
    const { arena } = this.trainables;
    await arena.gradOps.ready();
    arena.clearGrads();
    const clears = [p.acts.dlnf];
    if (p.train) p.train.dropout.setStep(this.dropoutStep++);
    this.submit(clears, [...p.train?.forward ?? p.forward, ...p.loss, ...p.backward], 'vit/step');
    this.lastB = B;
    return { loss: (await this.ctx.readF32(p.acts.loss, 1))[0] };
  }

  /** Mean loss over the batch and the batch size; forward and loss only, gradients untouched. */
  async evalLoss(pixels: Float32Array, labels: Int32Array): Promise<{ loss: number; count: number }> {
    const p = await this.loadLabelled(pixels, labels);
    this.submit([], [...p.forward, ...p.loss], 'vit/eval');
    return { loss: (await this.ctx.readF32(p.acts.loss, 1))[0], count: p.acts.dims.B };
  }

  /** Logits (B, NL) of a batch, no loss and no gradients. */
  async forwardLogits(pixels: Float32Array): Promise<Float32Array> {
    const p = await this.load(pixels);
    this.submit([], p.forward, 'vit/forward');
    return this.ctx.readF32(p.acts.logits, p.acts.dims.B * p.acts.dims.NL);
  }

  /** Gradients of the last step by trainable name. */
  async readGrads(): Promise<Map<string, Float32Array>> {
    if (!this.lastB) throw new Error('readGrads: no step has run');
    return this.trainables.arena.read('grads');
  }

  writeGrads(values: ReadonlyMap<string, Float32Array>): void {
    this.trainables.arena.write('grads', values, true, 'writeGrads');
  }

  /** Current values of the trainable tensors by name. */
  async readParams(): Promise<Map<string, Float32Array>> {
    return this.trainables.arena.read('params');
  }

  /** Same as readParams (the name both engines share). */
  readLoraWeights(): Promise<Map<string, Float32Array>> {
    return this.readParams();
  }

  async gradNorm(): Promise<number> {
    return this.trainables.arena.gradOps.norm();
  }

  scaleGrads(factor: number): void {
    this.trainables.arena.gradOps.scale(factor);
  }

  async nonFiniteGrads(): Promise<number> {
    return this.trainables.arena.gradOps.nonFinite();
  }

  /** Forgets the AdamW moments and step counts of every tensor, or of the adapter's only (the head keeps its own). */
  resetOptimizer(scope: OptimizerScope = 'all'): void {
    const { arena, slots } = this.trainables;
    if (scope === 'all') arena.resetOptimizer();
    else arena.resetOptimizer(adapterEntries(slots));
  }

  /** The AdamW moments of every trainable tensor, t and the dropout counter. */
  async readOptimizerState(): Promise<OptimizerState> {
    return this.trainables.arena.readOptimizerState(this.dropoutStep);
  }

  setOptimizerState(state: OptimizerState): void {
    this.dropoutStep = this.trainables.arena.setOptimizerState(state);
  }

  /**
   * One AdamW step (torch.optim.AdamW) on every trainable tensor with the last step's grads; lr and
   * weight decay may differ per tensor (LoRA+). Unset options fall back to `options.adamw`.
   */
  async adamwStep(lr: PerTensor, o: AdamWStepOptions = {}): Promise<void> {
    await this.trainables.arena.adamwStep(lr, o, this.options.adamw, 'vit/adamw');
  }

  destroy(): void {
    for (const p of this.plans.values()) {
      for (const l of [...p.forward, ...p.loss, ...p.backward, ...p.train?.forward ?? []]) l.destroy();
      p.train?.dropout.destroy();
      destroyVitActs(p.acts);
    }
    this.plans.clear();
    this.trainables.arena.destroy();
    destroyVitWeights(this.weights);
  }
}
