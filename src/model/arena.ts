// The trainable arena every family shares: one table of trainable tensors {name, shape, offset} (names are
// PEFT adapter keys, or the head's own names such as classifier.weight) and four flat GPU buffers that
// mirror it — params, grads and the AdamW moments m, v. Offsets are aligned to the device's
// minStorageBufferOffsetAlignment so every tensor can be bound as a range. Reading, writing, AdamW, the
// optimizer state of a checkpoint and the whole-gradient operations are walks over this one table, so a
// family never writes them again; the padding between entries is never touched (it stays zero).
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { type AdamWGroup, prepareAdamW } from '../kernels/adamw';
import { type AdamWStepOptions, type OptimizerState, type PerTensor, checkOptimizerState, valueFor } from './api';
import { GradOps } from './gradops';

export interface TrainableEntry {
  name: string; // e.g. base_model.model.transformer.h.0.attn.c_attn.lora_A.weight, classifier.bias
  shape: number[]; // lora_A (R, IN), lora_B (OUT, R), lora_magnitude_vector (OUT), …
  offset: number; // in elements, a multiple of the binding-offset alignment
  numel: number;
}

/** Builds the table in model order (the order AdamW, checkpoints and exports walk). */
export class ArenaLayout {
  readonly table: TrainableEntry[] = [];
  totalElems = 0;
  private readonly align: number;

  constructor(alignBytes: number) {
    this.align = Math.max(1, alignBytes / 4);
  }

  add(name: string, shape: number[]): TrainableEntry {
    if (this.table.some((e) => e.name === name)) throw new Error(`trainable arena: ${name} is laid out twice`);
    const e = { name, shape, offset: this.totalElems, numel: shape.reduce((a, b) => a * b, 1) };
    this.totalElems += Math.ceil(e.numel / this.align) * this.align;
    this.table.push(e);
    return e;
  }
}

type Role = 'params' | 'grads' | 'm' | 'v';

export class TrainableArena {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  readonly gradOps: GradOps;
  /**
   * AdamW steps taken by each entry since its last reset (its bias corrections), by table index: a cascade
   * resets only its expert's optimizer per iteration, so a ViT head trained beside it keeps counting.
   */
  private readonly adamT: number[];
  private readonly byName: Map<string, TrainableEntry>;

  constructor(private readonly ctx: GpuContext, readonly table: readonly TrainableEntry[], readonly totalElems: number, label: string) {
    if (table.length === 0) throw new Error('trainable arena: no trainable tensor');
    const bytes = totalElems * 4;
    this.params = ctx.createBuffer(`${label}/params`, bytes, 0, 'trainables');
    this.grads = ctx.createBuffer(`${label}/grads`, bytes, 0, 'gradients');
    this.m = ctx.createBuffer(`${label}/adamw_m`, bytes, 0, 'optimizer');
    this.v = ctx.createBuffer(`${label}/adamw_v`, bytes, 0, 'optimizer');
    this.byName = new Map(table.map((e) => [e.name, e]));
    this.adamT = table.map(() => 0);
    this.gradOps = new GradOps(ctx, table.map((e) => ({ buffer: this.grads, offset: e.offset, n: e.numel })));
  }

  static create(ctx: GpuContext, layout: ArenaLayout, label: string): TrainableArena {
    return new TrainableArena(ctx, layout.table, layout.totalElems, label);
  }

  entry(name: string): TrainableEntry | undefined {
    return this.byName.get(name);
  }

  /** One entry's range of one of the four buffers, as a binding. */
  binding(role: Role, e: TrainableEntry): BufferBinding {
    return { buffer: this[role], offset: e.offset * 4, size: e.numel * 4 };
  }

  /** Sets tensors by name; every name must be in the table with its size (all of them when requireAll). */
  write(role: Role, values: ReadonlyMap<string, Float32Array>, requireAll: boolean, what = 'trainable'): void {
    for (const [name, data] of values) {
      const e = this.byName.get(name);
      if (!e) throw new Error(`${what}: ${name} is not a trainable tensor of this model`);
      if (data.length !== e.numel) throw new Error(`${what}: ${name} has ${data.length} values; expected ${e.numel} (${e.shape.join('×')})`);
      this.ctx.write(this[role], data, e.offset * 4);
    }
    if (requireAll && values.size !== this.byName.size) throw new Error(`${what}: ${values.size} tensors given; the model has ${this.byName.size}`);
  }

  /** Every tensor of one buffer by name: one readback of the whole buffer, split by the table. */
  async read(role: Role): Promise<Map<string, Float32Array>> {
    const all = await this.ctx.readF32(this[role], this.totalElems);
    return new Map(this.table.map((e) => [e.name, all.slice(e.offset, e.offset + e.numel)]));
  }

  /** Zeroes the gradients (queued before the next submit): a step's backward accumulates into them. */
  clearGrads(): void {
    this.ctx.write(this.grads, new Float32Array(this.totalElems));
  }

  /**
   * Forgets the AdamW moments and step count of `entries` (default: all), as a fresh torch.optim.AdamW
   * over them would start; the other entries keep theirs (COLA/LoRASC reset the expert per link only).
   */
  resetOptimizer(entries: readonly TrainableEntry[] = this.table): void {
    if (entries === this.table) {
      const zeros = new Float32Array(this.totalElems);
      this.ctx.write(this.m, zeros);
      this.ctx.write(this.v, zeros);
      this.adamT.fill(0);
      return;
    }
    for (const e of entries) {
      const k = this.table.indexOf(e);
      if (k < 0) throw new Error(`trainable arena: ${e.name} is not an entry of this arena`);
      const zeros = new Float32Array(e.numel);
      this.ctx.write(this.m, zeros, e.offset * 4);
      this.ctx.write(this.v, zeros, e.offset * 4);
      this.adamT[k] = 0;
    }
  }

  async readOptimizerState(dropoutStep: number): Promise<OptimizerState> {
    const steps = new Map(this.table.map((e, k) => [e.name, this.adamT[k]]));
    return { m: await this.read('m'), v: await this.read('v'), steps, dropoutStep };
  }

  /** Writes every entry's moments at its offset and its step count; returns the dropout counter to restore. */
  setOptimizerState(state: OptimizerState): number {
    checkOptimizerState(state, this.table);
    this.write('m', state.m, true, 'optimizer state');
    this.write('v', state.v, true, 'optimizer state');
    this.table.forEach((e, k) => { this.adamT[k] = state.steps.get(e.name) as number; });
    return state.dropoutStep;
  }

  /**
   * One AdamW step (PyTorch order, bias corrections for step t) with one group per entry, so lr and
   * weight decay can differ per tensor (LoRA+: lora_B at lr × ratio). Unset options take `defaults`.
   */
  async adamwStep(lr: PerTensor, o: AdamWStepOptions, defaults: Required<AdamWStepOptions>, label: string): Promise<void> {
    // Each entry's own t (bias corrections); entries that share a t share one prepareAdamW call.
    const byT = new Map<number, AdamWGroup[]>();
    this.table.forEach((e, k) => {
      const t = ++this.adamT[k];
      const g = { offset: e.offset, length: e.numel, lr: valueFor(lr, e.name), weightDecay: valueFor(o.weightDecay ?? defaults.weightDecay, e.name) };
      const same = byT.get(t);
      if (same) same.push(g); else byT.set(t, [g]);
    });
    const buffers = { param: this.params, m: this.m, v: this.v, grad: this.grads };
    const launches: Launch[] = [];
    for (const [t, groups] of byT) {
      const hyper = { beta1: o.beta1 ?? defaults.beta1, beta2: o.beta2 ?? defaults.beta2, eps: o.eps ?? defaults.eps, t };
      launches.push(...(await prepareAdamW(this.ctx, groups, hyper, buffers)));
    }
    this.ctx.submit(launches, label);
    for (const l of launches) l.destroy();
  }

  destroy(): void {
    this.gradOps.destroy();
    for (const b of [this.params, this.grads, this.m, this.v]) b.destroy();
  }
}
