// One frozen linear module with its PEFT adapter, for every family and both weight layouts (Conv1D
// W [in, out], nn.Linear W [out, in]): forward and backward launches of
//   untargeted  y = x·Wᵀ + b                                  (W, b frozen: no gradient)
//   LoRA        y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ                    (h = x·Aᵀ cached for the backward)
//   + dropout   the LoRA input is dropout(x), masks from the slot's Philox stream (./lora_dropout.ts)
//   DoRA        y = (m/norm) ⊙ (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) + b     (norm detached, ./dora.ts)
// in [out, in] terms. A, B and m are ranges of the trainable arena (./arena.ts); their gradients
// accumulate there (`+=`: the step clears them first). This is the only place that branch is written.
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { type LoraModule, type ModuleSelector, loraKey, matchesModule } from '../io/peft';
import { type LoraShape, prepareLoraBackward, prepareLoraForward } from '../kernels/lora';
import { type WeightFormat, prepareWeightMatmul } from '../kernels/packed';
import type { ArenaLayout, TrainableArena, TrainableEntry } from './arena';
import { prepareDoraLinearBackward, prepareDoraLinearForward, rowNorms } from './dora';
import { type SlotDropout, prepareDroppedLoraBackward, prepareDroppedLoraForward } from './lora_dropout';

export type WeightLayout = LoraModule['layout'];

/** A frozen linear module on the GPU: W in the family's stored layout, its bias if it has one. */
export interface FrozenLinear {
  w: GPUBuffer;
  /** How W is held: F32 (the default), or BF16/F16 packed two per u32 (src/kernels/packed.ts). */
  format?: WeightFormat;
  b: GPUBuffer | undefined;
  IN: number;
  OUT: number;
  layout: WeightLayout;
}

/** The adapter of one targeted module: where its tensors sit in the arena, and its constants. */
export interface LoraSlot {
  path: string; // PEFT module path, e.g. transformer.h.0.attn.c_attn
  weight: string; // canonical name of its frozen weight in the loaded model, e.g. h.0.attn.c_attn.weight
  layout: WeightLayout;
  index: number; // position among the model's slots: the LoRA-dropout stream of this slot
  IN: number;
  OUT: number;
  R: number;
  scale: number; // s = lora_alpha / R, or lora_alpha / √R with rsLoRA (SlotOptions.scale)
  a: TrainableEntry; // lora_A (R, IN)
  b: TrainableEntry; // lora_B (OUT, R)
  m?: TrainableEntry; // DoRA lora_magnitude_vector (OUT)
}

/** The arena entries of the slots' adapter: A, B and DoRA's m (not a task head). */
export const adapterEntries = (slots: readonly LoraSlot[]): TrainableEntry[] => slots.flatMap((s) => (s.m ? [s.a, s.b, s.m] : [s.a, s.b]));

export interface SlotOptions {
  targetModules: ModuleSelector; // PEFT target_modules: a list of suffixes or a full-match regex
  r: number;
  /** LoRA scale s (y = W0·x + s·B·A·x): lora_alpha / r, or lora_alpha / √r with rsLoRA, computed once by loraScale. */
  scale: number;
  useDora?: boolean;
}

/**
 * Lays out A, B (and DoRA's m) of every module the targets select, in model order, as PEFT names them;
 * `modules` are the model's targetable linear modules (io/peft loraModules).
 */
export function layoutSlots(arena: ArenaLayout, modules: readonly LoraModule[], o: SlotOptions, family: string): LoraSlot[] {
  if (!Number.isInteger(o.r) || o.r < 1) throw new Error(`LoRA: r=${o.r} must be a positive integer`);
  const slots: LoraSlot[] = [];
  for (const { path, weight, layout, IN, OUT } of modules) {
    if (!matchesModule(path, o.targetModules)) continue;
    const a = arena.add(loraKey(path, 'lora_A'), [o.r, IN]);
    const b = arena.add(loraKey(path, 'lora_B'), [OUT, o.r]);
    const m = o.useDora ? arena.add(loraKey(path, 'magnitude'), [OUT]) : undefined;
    slots.push({ path, weight, layout, index: slots.length, IN, OUT, R: o.r, scale: o.scale, a, b, m });
  }
  if (slots.length === 0) throw new Error(`LoRA: target_modules ${JSON.stringify(o.targetModules)} matches no ${family} linear module`);
  return slots;
}

/**
 * DoRA's initial magnitude of each slot: the row norms of its CURRENT base weight — the loaded one until
 * setBaseWeight replaces it (LoRASC noise, COLA merges), so a fresh DoRA adapter is always a no-op.
 */
export class BaseNorms {
  private readonly byPath = new Map<string, Float32Array>();
  /**
   * `byWeight`: row norms by canonical weight name, taken while the engine uploaded each weight (a streamed
   * load keeps no copy to read them from later); any other weight is read from `tensors` (in memory).
   */
  constructor(private readonly tensors: ReadonlyMap<string, { data: Float32Array }>, private readonly byWeight: ReadonlyMap<string, Float32Array> = new Map()) {}

  /** Collects the row norms of each linear weight an engine uploads (its `onLinear` hook). */
  static collector(into: Map<string, Float32Array>): (name: string, dims: { IN: number; OUT: number; layout: string }, data: Float32Array) => void {
    return (name, d, data) => into.set(name, rowNorms(data, d.IN, d.OUT, d.layout === 'conv1d'));
  }

  of(slot: LoraSlot): Float32Array {
    let n = this.byPath.get(slot.path) ?? this.byWeight.get(slot.weight);
    if (!n) {
      const w = this.tensors.get(slot.weight);
      if (!w) throw new Error(`DoRA: the loaded model has no weight ${slot.weight}`);
      n = rowNorms(w.data, slot.IN, slot.OUT, slot.layout === 'conv1d');
      this.byPath.set(slot.path, n);
    }
    return n;
  }

  /** The slot's base weight is now w (stored layout). */
  set(slot: LoraSlot, w: Float32Array): void {
    this.byPath.set(slot.path, rowNorms(w, slot.IN, slot.OUT, slot.layout === 'conv1d'));
  }
}

/**
 * PEFT's fresh adapter: A ~ U(−1/√IN, 1/√IN) (kaiming_uniform, a = √5) from one seeded stream over the
 * slots in order, B = 0, DoRA's m = the row norms of the current base weight — a no-op adapter.
 */
export function initialLoraValues(slots: readonly LoraSlot[], seed: number, baseNorms: BaseNorms): Map<string, Float32Array> {
  let x = (Math.imul(seed, 2654435761) + 12345) >>> 0;
  const values = new Map<string, Float32Array>();
  for (const s of slots) {
    const a = new Float32Array(s.a.numel), bound = 1 / Math.sqrt(s.IN);
    for (let i = 0; i < a.length; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      a[i] = ((x / 4294967296) * 2 - 1) * bound;
    }
    values.set(s.a.name, a);
    values.set(s.b.name, new Float32Array(s.b.numel));
    if (s.m) values.set(s.m.name, baseNorms.of(s));
  }
  return values;
}

/** What the forward caches per targeted module for the backward. */
export interface SlotActs {
  h: GPUBuffer; // (N, R) = x·Aᵀ
  z?: GPUBuffer; // DoRA: (N, OUT) output before the magnitude scale
  norm?: GPUBuffer; // DoRA: (OUT) detached row norms
}

/** One linear module of one pass: N rows, the frozen weight and, when targeted, its adapter. */
export interface AdaptedLinear {
  N: number;
  lin: FrozenLinear;
  lora?: {
    slot: LoraSlot;
    arena: TrainableArena;
    acts: SlotActs;
    drop?: SlotDropout; // training passes with LoRA dropout only
  };
}

/** Backward scratch shared by every module of a pass. */
export interface LinearScratch {
  dh: GPUBuffer; // (N, ≥ R)
  dz: GPUBuffer; // DoRA: (N, ≥ OUT)
}

const shapeOf = (c: AdaptedLinear, slot: LoraSlot): LoraShape =>
  ({ N: c.N, IN: c.lin.IN, OUT: c.lin.OUT, R: slot.R, scale: slot.scale, conv1d: c.lin.layout === 'conv1d', wFormat: c.lin.format });

function doraActs(slot: LoraSlot, acts: SlotActs): { z: GPUBuffer; norm: GPUBuffer } {
  if (!acts.z || !acts.norm) throw new Error(`DoRA on ${slot.path}: the plan has no z/norm buffers`);
  return { z: acts.z, norm: acts.norm };
}

/** y (N, OUT) = the module applied to x (N, IN); y written `=`. */
export async function adaptedLinearForward(ctx: GpuContext, c: AdaptedLinear, x: BufferBinding, y: BufferBinding): Promise<Launch[]> {
  const { lin } = c;
  if (!c.lora) {
    // Conv1D W (IN, OUT) is already the (K, N) operand; nn.Linear W (OUT, IN) is read transposed.
    return [await prepareWeightMatmul(ctx, { M: c.N, N: lin.OUT, K: lin.IN, transB: lin.layout === 'linear' }, lin.format, { a: x, w: lin.w, bias: lin.b, c: y })];
  }
  const { slot, arena, acts, drop } = c.lora;
  const shape = shapeOf(c, slot);
  const A = arena.binding('params', slot.a), B = arena.binding('params', slot.b);
  if (slot.m) {
    if (drop) throw new Error(`DoRA on ${slot.path}: LoRA dropout with DoRA is not implemented`);
    const { z, norm } = doraActs(slot, acts);
    return prepareDoraLinearForward(ctx, shape, { x, w: lin.w, bias: lin.b, loraA: A, loraB: B, m: arena.binding('params', slot.m), norm, h: acts.h, z, y });
  }
  const buffers = { x, w: lin.w, bias: lin.b, loraA: A, loraB: B, h: acts.h, y };
  if (drop) return prepareDroppedLoraForward(ctx, shape, drop, buffers);
  return prepareLoraForward(ctx, shape, buffers);
}

export interface LinearBackwardBuffers {
  x: BufferBinding; // (N, IN) the forward's input
  dy: BufferBinding; // (N, OUT)
  dx: BufferBinding; // (N, IN)
}

/**
 * dx = dy·W (in [out, in] terms) [+ the LoRA path], written `=` or added (`accumulateDx`); a targeted
 * module also accumulates dA, dB (and dm) into the arena's gradients.
 */
export async function adaptedLinearBackward(
  ctx: GpuContext, c: AdaptedLinear, buf: LinearBackwardBuffers, scratch: LinearScratch, accumulateDx: boolean,
): Promise<Launch[]> {
  const { lin } = c;
  if (!c.lora) {
    // dx (N, IN) = dy (N, OUT)·W: nn.Linear W (OUT, IN) is the (K, N) operand; Conv1D W (IN, OUT) is read transposed.
    return [await prepareWeightMatmul(ctx, { M: c.N, N: lin.IN, K: lin.OUT, transB: lin.layout === 'conv1d', beta: accumulateDx ? 1 : 0 },
      lin.format, { a: buf.dy, w: lin.w, c: buf.dx })];
  }
  const { slot, arena, acts, drop } = c.lora;
  const shape = shapeOf(c, slot);
  const grads = {
    loraA: arena.binding('params', slot.a), loraB: arena.binding('params', slot.b),
    dA: arena.binding('grads', slot.a), dB: arena.binding('grads', slot.b),
  };
  if (slot.m) {
    const { z, norm } = doraActs(slot, acts);
    return prepareDoraLinearBackward(ctx, shape, {
      ...grads, x: buf.x, w: lin.w, m: arena.binding('params', slot.m), dm: arena.binding('grads', slot.m), norm, h: acts.h, z,
      dy: buf.dy, dz: { buffer: scratch.dz, size: c.N * lin.OUT * 4 }, dh: scratch.dh, dx: buf.dx,
    }, accumulateDx);
  }
  const buffers = { ...grads, x: buf.x, w: lin.w, h: acts.h, dy: buf.dy, dh: scratch.dh, dx: buf.dx };
  if (drop) return prepareDroppedLoraBackward(ctx, shape, drop, buffers, accumulateDx);
  return prepareLoraBackward(ctx, shape, buffers, { accumulateDx });
}
