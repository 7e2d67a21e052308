// The training surface of every decoder-only family (GPT-2, the Llama families) in one place: a frozen
// causal LM with LoRA or DoRA adapters in the trainable arena (./arena.ts), whose forward, loss and backward
// are the family's prepared launches. One submit per training step (forward, loss, backward) and one
// 8-byte readback (the loss); AdamW is a second submit. A family class (gpt2/model.ts, llama/model.ts)
// adds only what differs: how it is created, its loss-backward launches and which frozen weight a PEFT
// module path names (setBaseWeight).
import type { GpuContext, Launch } from '../gpu/context';
import { validateIds } from '../kernels/embedding';
import { type VocabSplit, readVocabColumns } from '../kernels/vocab_split';
import { IGNORE_INDEX, meanLossScale } from '../ref/softmax_xent';
import { type BaseNorms, type LoraSlot, initialLoraValues } from './adaptedLinear';
import type { AdamWStepOptions, OptimizerScope, OptimizerState, PerTensor, TrainableEntryInfo, TrainableModel } from './api';
import type { TrainableEntry } from './arena';
import type { StackActs, StackPass } from './block';
import { DropoutStreams } from './lora_dropout';

/** What every causal LM's plan holds besides the block stack: the step's inputs, the logits and the loss. */
export interface LmActs extends StackActs {
  ids: GPUBuffer; // (B, T) u32 token ids, uploaded per step
  targets: GPUBuffer; // (B, T) i32 shifted labels, −100 ignored, uploaded per step
  loss: GPUBuffer; // (2) [mean over non-ignored positions, their count]
  vocab: VocabSplit; // the vocabulary chunks the logits are stored in
  logitsChunks: GPUBuffer[]; // (B·T, n_k) per chunk
}

export interface LmParts extends StackPass {
  slots: LoraSlot[]; // model order
  acts: LmActs;
}

/** The prepared passes of one engine: eval forward (never drops), loss, backward, and the training forward with LoRA dropout. */
export interface LmPasses {
  forward: Launch[];
  loss: Launch[];
  backward: Launch[];
  train?: { forward: Launch[]; dropout: DropoutStreams };
}

export interface LmPassOptions {
  B: number;
  T: number;
  seed?: number;
  useDora?: boolean;
  /** PEFT lora_dropout p on the LoRA input in training steps (default 0: none); not with DoRA. */
  loraDropout?: number;
  /** Key of the dropout masks' Philox stream (default: seed). */
  dropoutSeed?: number;
}

/** A family's forward, loss and backward builders over its parts (dropout given for the training passes). */
export interface LmBuilders<P extends LmParts> {
  forward(p: P): Promise<Launch[]>;
  loss(p: P): Promise<Launch[]>;
  backward(p: P): Promise<Launch[]>;
}

/** Prepares the passes; with LoRA dropout the training forward and the backward read the dropout streams. */
export async function prepareLmPasses<P extends LmParts>(
  ctx: GpuContext, parts: P, o: LmPassOptions, build: LmBuilders<P>, label: string,
): Promise<LmPasses> {
  const family = parts.spec.family, p = o.loraDropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new Error(`${family}: loraDropout=${p} must be in [0, 1)`);
  if (p > 0 && o.useDora) throw new Error(`${family}: loraDropout with useDora is not supported (PEFT's DoRA dropout form is not implemented)`);
  const forward = await build.forward(parts), loss = await build.loss(parts);
  if (p === 0) return { forward, loss, backward: await build.backward(parts) };
  const dropout = await DropoutStreams.create(ctx, p, o.dropoutSeed ?? o.seed ?? 0, o.B * o.T, parts.slots.map((s) => s.IN), label);
  const trainParts = { ...parts, dropout };
  return { forward, loss, backward: await build.backward(trainParts), train: { forward: await build.forward(trainParts), dropout } };
}

const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export abstract class CausalLmEngine<P extends LmParts> implements TrainableModel<Uint32Array> {
  /**
   * Training steps taken with LoRA dropout: step t draws its masks from Philox counters t·S + k (see
   * ./lora_dropout.ts). Set it to resume a run reproducibly.
   */
  dropoutStep = 0;
  /** dlogits' scale 1/count depends on the step's labels: its launches are prepared once per distinct count. */
  private readonly lossBackward = new Map<number, Launch[]>();

  protected constructor(
    readonly parts: P,
    protected readonly passes: LmPasses,
    protected readonly baseNorms: BaseNorms,
    /** Vocabulary size (ids and labels are checked against it). */
    protected readonly V: number,
    /** Submit label prefix: 'gpt2', 'llama'. */
    private readonly label: string,
  ) {}

  protected abstract prepareLossBackward(scale: number): Promise<Launch[]>;
  /** Frees the family's weights and activation plan (the arena and the passes are freed here). */
  protected abstract destroyModel(): void;
  /** Overwrites the frozen weight of a targetable linear module (PEFT module path), stored layout. */
  abstract setBaseWeight(path: string, w: Float32Array): void;

  /** The trainable table (PEFT names, shapes, offsets into the flat buffers). */
  get table(): readonly TrainableEntry[] {
    return this.parts.arena.table;
  }

  trainableEntries(): TrainableEntryInfo[] {
    return this.table.map((e) => ({ name: e.name, shape: [...e.shape] }));
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
    const { ctx, acts, spec } = this.parts, V = this.V;
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
    const { ctx, acts } = this.parts;
    this.writeInputs(inputIds);
    ctx.submit(this.passes.forward, `${this.label}/forward`);
    return readVocabColumns(ctx, acts.logitsChunks, acts.B * acts.T, acts.vocab);
  }

  /** Mean loss over the targets ≠ −100 and their count; forward and loss only, gradients untouched. */
  async evalLoss(inputIds: Uint32Array, labels: Int32Array): Promise<{ loss: number; count: number }> {
    const { ctx, acts } = this.parts;
    this.writeInputs(inputIds, labels);
    ctx.submit([...this.passes.forward, ...this.passes.loss], `${this.label}/eval`);
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
      lossBackward = await this.prepareLossBackward(scale);
      this.lossBackward.set(scale, lossBackward);
    }
    const { train } = this.passes;
    if (train) train.dropout.setStep(this.dropoutStep++);
    ctx.submit([...train?.forward ?? this.passes.forward, ...this.passes.loss, ...lossBackward, ...this.passes.backward], `${this.label}/step`);
    const loss = await ctx.readF32(acts.loss, 2);
    return { loss: loss[0] };
  }

  /**
   * The prepared launches of a step in order, by phase (the eval forward; the loss backward of the first
   * label count a step has used), for profiling each dispatch alone (bench --profile). Never submitted here.
   */
  profileLaunches(): { phase: 'forward' | 'loss' | 'backward'; launch: Launch }[] {
    const lossBackward = [...this.lossBackward.values()][0] ?? [];
    return [
      ...this.passes.forward.map((launch) => ({ phase: 'forward' as const, launch })),
      ...[...this.passes.loss, ...lossBackward].map((launch) => ({ phase: 'loss' as const, launch })),
      ...this.passes.backward.map((launch) => ({ phase: 'backward' as const, launch })),
    ];
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

  /** Zeroes the AdamW moments and step counts (a fresh optimizer, as COLA/LoRASC need per link); a causal LM trains the adapter only, so both scopes are every tensor. */
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
    await this.parts.arena.adamwStep(lr, o, ADAMW_DEFAULTS, `${this.label}/adamw`);
  }

  destroy(): void {
    const { forward, loss, backward, train } = this.passes;
    for (const l of [...forward, ...loss, ...backward, ...[...this.lossBackward.values()].flat(), ...train?.forward ?? []]) l.destroy();
    train?.dropout.destroy();
    this.destroyModel();
    this.parts.arena.destroy();
  }
}
