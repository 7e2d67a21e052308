// The block engine every family runs: L pre-norm transformer blocks, as prepared launches,
//   a = norm1(x)                                 (LayerNorm, or RMSNorm)
//   packed path (GPT-2, ViT): q|k|v = qkv(a) (one fused module, or three packed into Q | K | V columns),
//     y = multi-head attention (causal or bidirectional)
//   grouped path (Llama families): q = q_proj(a), k = k_proj(a), v = v_proj(a) in separate buffers,
//     q, k = rope(qknorm(q)), rope(qknorm(k)) (per-head RMSNorm only with qkNorm, then the rotation at
//     each row's position), y = causal grouped-query attention (NKV ≤ NH heads of HS, NH·HS ≠ C allowed)
//   m = x + o(y)
//   x' = m + down(act(up(norm2(m))))   or, gated:  x' = m + down(silu(gate(n2)) ⊙ up(n2)),  n2 = norm2(m)
// and their backward to the adapters (the arena's gradients) and the residual stream. Each linear is
// an adaptedLinear (./adaptedLinear.ts); what a family's block is comes from its spec
// (./families/spec.ts). The stem before resid[0] and the head after resid[L] are the family's.
import type { GpuContext, Launch } from '../gpu/context';
import { prepareAttentionBackward, prepareAttentionForward } from '../kernels/attention';
import { prepareGqaBackward, prepareGqaForward } from '../kernels/attention_gqa';
import { prepareElementwiseAdd } from '../kernels/elementwise';
import { prepareGeluBackward, prepareGeluForward } from '../kernels/gelu';
import { prepareLayernormBackward, prepareLayernormForward } from '../kernels/layernorm';
import { prepareRmsnormBackward, prepareRmsnormForward } from '../kernels/rmsnorm';
import { prepareRopeBackward, prepareRopeForward } from '../kernels/rope';
import { prepareStridedCopy } from '../kernels/strided_copy';
import { prepareSwigluBackward, prepareSwigluForward } from '../kernels/swiglu';
import { type AdaptedLinear, type FrozenLinear, type LoraSlot, adaptedLinearBackward, adaptedLinearForward } from './adaptedLinear';
import type { FrozenWeight } from '../kernels/packed';
import type { TrainableArena } from './arena';
import { type FamilySpec, attentionPath, checkImplemented, qkvWidths } from './families/spec';
import type { DropoutStreams } from './lora_dropout';
import type { RopeTables } from './rotary';

/** Frozen weights of one block: the norms and every linear by its name under the block prefix. */
export interface BlockWeights {
  ln1w: GPUBuffer; // (C)
  ln1b: GPUBuffer | undefined; // (C), LayerNorm only
  ln2w: GPUBuffer; // (C)
  ln2b: GPUBuffer | undefined; // (C), LayerNorm only
  qNormW?: GPUBuffer; // (HS), qkNorm only
  kNormW?: GPUBuffer; // (HS), qkNorm only
  linear: Record<string, FrozenLinear>;
}

/** The block's linear modules in model order (q, k, v or the fused one; o; gate; up; down). */
export const blockModules = (spec: FamilySpec): string[] =>
  [...spec.modules.qkv, spec.modules.o, ...(spec.modules.gate ? [spec.modules.gate] : []), spec.modules.up, spec.modules.down];

/**
 * Uploads every block's frozen weights by the spec's names (`get` uploads a canonical tensor once as F32
 * and returns its buffer; `getWeight` does the same for a linear's weight in the run's format,
 * ./frozen.ts). IN/OUT come from the stored shape, read in the spec's layout.
 */
export function uploadBlocks(
  spec: FamilySpec, tensors: ReadonlyMap<string, { shape: readonly number[] }>, get: (name: string) => GPUBuffer,
  getWeight: (name: string, dims: LinearDims) => FrozenWeight = (name) => ({ buffer: get(name), format: 'f32' }),
): BlockWeights[] {
  checkImplemented(spec);
  const bias = (m: string) => (spec.modules.qkv.includes(m) ? spec.biases.qkv : m === spec.modules.o ? spec.biases.o : spec.biases.mlp);
  const layers: BlockWeights[] = [];
  for (let l = 0; l < spec.L; l++) {
    const h = spec.blockPrefix(l);
    const linear: Record<string, FrozenLinear> = {};
    for (const m of blockModules(spec)) {
      const t = tensors.get(`${h}${m}.weight`);
      if (!t || t.shape.length !== 2) throw new Error(`${spec.family} engine: no 2-D weight ${h}${m}.weight`);
      const [d0, d1] = t.shape;
      const [IN, OUT] = spec.layout === 'conv1d' ? [d0, d1] : [d1, d0];
      const w = getWeight(`${h}${m}.weight`, { IN, OUT, layout: spec.layout });
      linear[m] = { w: w.buffer, format: w.format, b: bias(m) ? get(`${h}${m}.bias`) : undefined, IN, OUT, layout: spec.layout };
    }
    const { n1, n2, q, k } = spec.norms;
    const ln = spec.norm === 'layernorm';
    const qk = spec.attention.qkNorm && q && k ? { qNormW: get(`${h}${q}.weight`), kNormW: get(`${h}${k}.weight`) } : {};
    const ln1w = get(`${h}${n1}.weight`), ln1b = ln ? get(`${h}${n1}.bias`) : undefined;
    const ln2w = get(`${h}${n2}.weight`), ln2b = ln ? get(`${h}${n2}.bias`) : undefined;
    layers.push({ ln1w, ln1b, ln2w, ln2b, ...qk, linear });
  }
  return layers;
}

/**
 * The tensors uploadBlocks asks for, in its order: `dims` for a linear's weight (getWeight), none for
 * the F32 ones (get). An async uploader reads and uploads them one at a time (a streamed source never
 * holds more than one in JS), then assembles the blocks with uploadBlocks over what it uploaded.
 */
export function blockTensors(spec: FamilySpec, tensors: ReadonlyMap<string, { shape: readonly number[] }>): { name: string; dims?: LinearDims }[] {
  const out: { name: string; dims?: LinearDims }[] = [];
  const unused = {} as GPUBuffer; // only the names are wanted: this walk assembles nothing that is kept
  uploadBlocks(spec, tensors, (name) => (out.push({ name }), unused), (name, dims) => (out.push({ name, dims }), { buffer: unused, format: 'f32' }));
  return out;
}

/** A block linear's widths and stored layout, as uploadBlocks hands them to `getWeight`. */
export interface LinearDims {
  IN: number;
  OUT: number;
  layout: FamilySpec['layout'];
}

/** What block l's forward caches for its backward (N = B·T rows). */
export interface BlockActs {
  ln1: GPUBuffer; // (N, C) norm1 output = q/k/v input
  ln1Mean: GPUBuffer; // (N), LayerNorm only (1 element for RMSNorm)
  ln1Rstd: GPUBuffer; // (N)
  /**
   * Separate q, k, v outputs: (N, C) each on the packed path (empty for a fused module); on the grouped
   * path q (N, NH·HS), k and v (N, NKV·HS), q and k after the q/k norm and the rotation = attention's input.
   */
  qkvParts: GPUBuffer[];
  /** Grouped path with qkNorm: the q_proj and k_proj outputs before the per-head norm, and its rstd (N·NH), (N·NKV). */
  qkRaw: GPUBuffer[];
  qkRstd: GPUBuffer[];
  qkv: GPUBuffer; // (N, 3C) Q | K | V columns on the packed path (1 element on the grouped path)
  att: GPUBuffer; // (B, NH, T, T) softmax probabilities
  atty: GPUBuffer; // (N, NH·HS) attention output = o input
  resMid: GPUBuffer; // (N, C) residual after attention
  ln2: GPUBuffer; // (N, C) norm2 output = up (and gate) input
  ln2Mean: GPUBuffer; // (N), LayerNorm only
  ln2Rstd: GPUBuffer; // (N)
  gate: GPUBuffer | undefined; // (N, I) gate output, gated_silu only
  fch: GPUBuffer; // (N, I) up output, before the activation
  fchGelu: GPUBuffer; // (N, I) activation output (silu(gate) ⊙ up when gated) = down input
  /** Per targeted module (by name under the block prefix): h = x·Aᵀ (N, R); DoRA's z (N, OUT) and norm (OUT). */
  loraH: Map<string, GPUBuffer>;
  doraZ: Map<string, GPUBuffer>;
  doraNorm: Map<string, GPUBuffer>;
}

/** Activations of the whole stack for one (B, T), plus the backward's scratch shared by every block. */
export interface StackActs {
  B: number;
  T: number;
  /**
   * Activation checkpointing: every entry of `layers` is one shared BlockActs, the forward keeps only the
   * blocks' inputs (resid), and the backward recomputes block l's forward into it just before block l's
   * backward (same launches, same inputs, same dropout counters: bit-identical activations and gradients).
   */
  recompute: boolean;
  /** resid[l] enters block l; resid[L] leaves the stack (the head's input). */
  resid: GPUBuffer[];
  layers: BlockActs[];
  proj: GPUBuffer; // (N, C) an o/down output before its residual add
  dresid: GPUBuffer; // (N, C) gradient of the residual stream
  dln: GPUBuffer; // (N, C) gradient of a norm output
  datty: GPUBuffer; // (N, NH·HS)
  dqkv: GPUBuffer; // (N, 3C) packed path (1 element on the grouped path)
  dqkvParts: GPUBuffer[]; // separate q/k/v only: as qkvParts
  dqkRaw: GPUBuffer[]; // grouped path with qkNorm: gradients of the q_proj and k_proj outputs
  dpreatt: GPUBuffer; // (B, NH, T, T)
  dfchGelu: GPUBuffer; // (N, I)
  dfch: GPUBuffer; // (N, I)
  dgate: GPUBuffer | undefined; // (N, I), gated_silu only
  dh: GPUBuffer; // (N, R) LoRA scratch
  dz: GPUBuffer; // (N, max OUT) DoRA scratch (1 element without DoRA)
  all: GPUBuffer[]; // every buffer above, for destroy
}

/** Where a plan's buffers come from: the GPU context, or a ledger that only adds up their bytes (src/train/memoryPlan.ts). */
export type BufferSink = Pick<GpuContext, 'createBuffer'>;

/**
 * Plans the stack for (B, T); `slotOf(l, module)` says which modules of block l carry an adapter. With
 * `recompute`, one block's activations are held (shared by every block) instead of L.
 */
export function planStack(
  ctx: BufferSink, spec: FamilySpec, B: number, T: number, slotOf: (l: number, module: string) => LoraSlot | undefined, label: string,
  recompute = false,
): StackActs {
  checkImplemented(spec);
  const { C, I, L } = spec, NH = spec.attention.NH, NKV = spec.attention.NKV, N = B * T;
  const { QW, KW } = qkvWidths(spec);
  const all: GPUBuffer[] = [];
  const f = (name: string, n: number) => {
    const b = ctx.createBuffer(`${label}/${name}`, n * 4);
    all.push(b);
    return b;
  };
  const grouped = attentionPath(spec) === 'grouped';
  const separate = spec.modules.qkv.length === 3;
  const qkNorm = grouped && spec.attention.qkNorm;
  const gated = spec.mlp === 'gated_silu';
  const ln = spec.norm === 'layernorm';
  // Widths of q, k, v: C each on the packed path.
  const partWidths = grouped ? [QW, KW, KW] : [C, C, C];
  const modules = blockModules(spec);
  let R = 0, dora = false;
  // One block's buffers; `ls` are the layers whose adapters it must hold (every layer when shared).
  const blockActs = (h: string, ls: number[]): BlockActs => {
    const loraH = new Map<string, GPUBuffer>(), doraZ = new Map<string, GPUBuffer>(), doraNorm = new Map<string, GPUBuffer>();
    for (const m of modules) {
      // A module's slots have the same R and OUT in every layer (one rank, one module shape): the first one sizes it.
      const slot = ls.map((l) => slotOf(l, m)).find((x) => x !== undefined);
      if (!slot) continue;
      R = slot.R;
      loraH.set(m, f(`${h}${m}.lora_h`, N * slot.R));
      if (slot.m) {
        dora = true;
        doraZ.set(m, f(`${h}${m}.dora_z`, N * slot.OUT));
        doraNorm.set(m, f(`${h}${m}.dora_norm`, slot.OUT));
      }
    }
    return {
      ln1: f(`${h}ln1`, N * C), ln1Mean: f(`${h}ln1Mean`, ln ? N : 1), ln1Rstd: f(`${h}ln1Rstd`, N),
      qkvParts: separate ? [0, 1, 2].map((j) => f(`${h}qkv.${j}`, N * partWidths[j])) : [],
      qkRaw: qkNorm ? [f(`${h}qRaw`, N * QW), f(`${h}kRaw`, N * KW)] : [],
      qkRstd: qkNorm ? [f(`${h}qRstd`, N * NH), f(`${h}kRstd`, N * NKV)] : [],
      qkv: f(`${h}qkv`, grouped ? 1 : N * 3 * C), att: f(`${h}att`, B * NH * T * T), atty: f(`${h}atty`, N * QW),
      resMid: f(`${h}resMid`, N * C),
      ln2: f(`${h}ln2`, N * C), ln2Mean: f(`${h}ln2Mean`, ln ? N : 1), ln2Rstd: f(`${h}ln2Rstd`, N),
      gate: gated ? f(`${h}gate`, N * I) : undefined,
      fch: f(`${h}fch`, N * I), fchGelu: f(`${h}fchGelu`, N * I),
      loraH, doraZ, doraNorm,
    };
  };
  const every = Array.from({ length: L }, (_, l) => l);
  const shared = recompute ? blockActs('h.shared.', every) : undefined;
  const layers = every.map((l) => shared ?? blockActs(`h.${l}.`, [l]));
  return {
    B, T, recompute, layers,
    resid: Array.from({ length: L + 1 }, (_, l) => f(`resid.${l}`, N * C)),
    proj: f('proj', N * C),
    dresid: f('dresid', N * C), dln: f('dln', N * C), datty: f('datty', N * QW), dqkv: f('dqkv', grouped ? 1 : N * 3 * C),
    dqkvParts: separate ? [0, 1, 2].map((j) => f(`dqkv.${j}`, N * partWidths[j])) : [],
    dqkRaw: qkNorm ? [f('dqRaw', N * QW), f('dkRaw', N * KW)] : [],
    dpreatt: f('dpreatt', B * NH * T * T), dfchGelu: f('dfchGelu', N * I), dfch: f('dfch', N * I),
    dgate: gated ? f('dgate', N * I) : undefined,
    dh: f('dh', N * Math.max(1, R)),
    dz: f('dz', dora ? N * Math.max(3 * C, I, QW) : 1),
    all,
  };
}

export function destroyStack(a: StackActs): void {
  for (const b of a.all) b.destroy();
}

/** One pass over the stack: weights, activations, the adapters and (training passes) their dropout. */
export interface StackPass {
  ctx: GpuContext;
  spec: FamilySpec;
  blocks: BlockWeights[];
  acts: StackActs;
  byPath: ReadonlyMap<string, LoraSlot>; // by PEFT module path
  arena: TrainableArena;
  dropout?: DropoutStreams;
  /** Rotary positions only: the model's cos/sin tables. */
  rope?: RopeTables;
}

/** Module `module` of block l in pass p. */
export function blockLinear(p: StackPass, l: number, module: string): AdaptedLinear {
  const lin = p.blocks[l].linear[module], N = p.acts.B * p.acts.T;
  if (!lin) throw new Error(`${p.spec.family} engine: block ${l} has no linear ${module}`);
  const slot = p.byPath.get(`${p.spec.peftPrefix(l)}${module}`);
  if (!slot) return { N, lin };
  const a = p.acts.layers[l], h = a.loraH.get(module);
  if (!h) throw new Error(`${p.spec.family} plan has no LoRA hidden buffer for ${slot.path}`);
  return { N, lin, lora: { slot, arena: p.arena, acts: { h, z: a.doraZ.get(module), norm: a.doraNorm.get(module) }, drop: p.dropout?.slot(slot.index) } };
}

const lnShape = (p: StackPass) => ({ B: p.acts.B, T: p.acts.T, C: p.spec.C, eps: p.spec.eps });
const gelu = (s: FamilySpec) => (s.mlp === 'gelu_tanh' ? 'tanh' as const : 'none' as const);

/** A hidden-state norm (norm1 or norm2) of the spec's kind: y = norm(x) over N rows of C. */
function prepareNorm(
  p: StackPass, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | undefined, y: GPUBuffer, mean: GPUBuffer, rstd: GPUBuffer,
): Promise<Launch> {
  if (p.spec.norm === 'rmsnorm') {
    return prepareRmsnormForward(p.ctx, { rows: p.acts.B * p.acts.T, C: p.spec.C, eps: p.spec.eps }, { x, w, y, rstd });
  }
  if (!b) throw new Error(`${p.spec.family} engine: a LayerNorm without a bias`);
  return prepareLayernormForward(p.ctx, lnShape(p), { x, w, b, y, mean, rstd });
}

/** Its backward, added to the residual stream's gradient: dx += normᵀ(dy). */
function prepareNormBackward(p: StackPass, dy: GPUBuffer, x: GPUBuffer, w: GPUBuffer, mean: GPUBuffer, rstd: GPUBuffer, dx: GPUBuffer): Promise<Launch> {
  if (p.spec.norm === 'rmsnorm') {
    return prepareRmsnormBackward(p.ctx, { rows: p.acts.B * p.acts.T, C: p.spec.C, eps: p.spec.eps, accumulateDx: true }, { dy, x, w, rstd, dx });
  }
  return prepareLayernormBackward(p.ctx, { ...lnShape(p), accumulateDx: true }, { dy, x, w, mean, rstd, dx });
}

/** Per-head RMSNorm shape: every head of a (N, heads·HS) buffer is a row of HS. */
const headNorm = (p: StackPass, heads: number) => ({ rows: p.acts.B * p.acts.T * heads, C: p.spec.attention.HS, eps: p.spec.eps });

/**
 * norm1 and the q/k/v projections of block l: resid[l] → qkv (N, 3C) on the packed path; on the grouped
 * path → q, k, v (qkvParts), q and k through their per-head norms (qkNorm) but not yet rotated
 * (prepareRotary: the decode step rotates at its own position).
 */
export async function prepareAttentionIn(p: StackPass, l: number): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l], N = acts.B * acts.T, C = spec.C;
  const out: Launch[] = [await prepareNorm(p, acts.resid[l], w.ln1w, w.ln1b, a.ln1, a.ln1Mean, a.ln1Rstd)];
  if (attentionPath(spec) === 'grouped') {
    const qk = a.qkRaw.length > 0;
    for (const [j, m] of spec.modules.qkv.entries()) {
      out.push(...await adaptedLinearForward(ctx, blockLinear(p, l, m), a.ln1, qk && j < 2 ? a.qkRaw[j] : a.qkvParts[j]));
    }
    if (qk) {
      const { NH, NKV } = spec.attention;
      if (!w.qNormW || !w.kNormW) throw new Error(`${spec.family} engine: block ${l} has no q/k norm weights`);
      out.push(
        await prepareRmsnormForward(ctx, headNorm(p, NH), { x: a.qkRaw[0], w: w.qNormW, y: a.qkvParts[0], rstd: a.qkRstd[0] }),
        await prepareRmsnormForward(ctx, headNorm(p, NKV), { x: a.qkRaw[1], w: w.kNormW, y: a.qkvParts[1], rstd: a.qkRstd[1] }),
      );
    }
    return out;
  }
  if (a.qkvParts.length === 0) {
    out.push(...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.qkv[0]), a.ln1, a.qkv));
    return out;
  }
  // Separate q, k, v modules, each packed into its column block of (N, 3C) for the attention kernels.
  for (const [j, m] of spec.modules.qkv.entries()) {
    out.push(...await adaptedLinearForward(ctx, blockLinear(p, l, m), a.ln1, a.qkvParts[j]));
    out.push(await prepareStridedCopy(ctx, { batch: 1, rows: N, cols: C, srcRowStride: C, dstOffset: j * C, dstRowStride: 3 * C },
      { src: a.qkvParts[j], dst: a.qkv }));
  }
  return out;
}

/** Rotary positions: q and k of block l rotated in place, row t at position pos0 + t (nothing for learned positions). */
export async function prepareRotary(p: StackPass, l: number, pos0: number): Promise<Launch[]> {
  if (p.spec.position !== 'rotary') return [];
  const { ctx, acts, spec } = p;
  if (!p.rope) throw new Error(`${spec.family} engine: rotary positions without cos/sin tables`);
  const a = acts.layers[l], { cos, sin, P } = p.rope;
  const shape = (NH: number) => ({ B: acts.B, T: acts.T, NH, HS: spec.attention.HS, pos0, P });
  return [
    await prepareRopeForward(ctx, shape(spec.attention.NH), { cos, sin, x: a.qkvParts[0] }),
    await prepareRopeForward(ctx, shape(spec.attention.NKV), { cos, sin, x: a.qkvParts[1] }),
  ];
}

/** The MLP's middle: act(up) or silu(gate) ⊙ up → fchGelu. */
async function prepareMlpForward(p: StackPass, l: number): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], n = acts.B * acts.T * spec.I;
  if (spec.mlp !== 'gated_silu') {
    return [
      ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.up), a.ln2, a.fch),
      await prepareGeluForward(ctx, { n, approximate: gelu(spec) }, { x: a.fch, out: a.fchGelu }),
    ];
  }
  const gate = spec.modules.gate as string, g = a.gate as GPUBuffer;
  return [
    ...await adaptedLinearForward(ctx, blockLinear(p, l, gate), a.ln2, g),
    ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.up), a.ln2, a.fch),
    await prepareSwigluForward(ctx, { n }, { g, u: a.fch, h: a.fchGelu }),
  ];
}

/**
 * The rest of block l after attention: o, residual, norm2, MLP, residual → resid[l + 1]. Without
 * `residOut` the last add is left out (a recomputation needs the cached activations, not the output).
 */
export async function prepareBlockOut(p: StackPass, l: number, residOut = true): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l], n = acts.B * acts.T * spec.C;
  const out = [
    ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.o), a.atty, acts.proj),
    await prepareElementwiseAdd(ctx, { n }, { a: acts.resid[l], b: acts.proj, out: a.resMid }),
    await prepareNorm(p, a.resMid, w.ln2w, w.ln2b, a.ln2, a.ln2Mean, a.ln2Rstd),
    ...await prepareMlpForward(p, l),
    ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.down), a.fchGelu, acts.proj),
  ];
  if (residOut) out.push(await prepareElementwiseAdd(ctx, { n }, { a: a.resMid, b: acts.proj, out: acts.resid[l + 1] }));
  return out;
}

const attentionShape = (p: StackPass) =>
  ({ B: p.acts.B, T: p.acts.T, C: p.spec.C, NH: p.spec.attention.NH, causal: p.spec.attention.causal });
const gqaShape = (p: StackPass) =>
  ({ B: p.acts.B, T: p.acts.T, NH: p.spec.attention.NH, NKV: p.spec.attention.NKV, HS: p.spec.attention.HS });

/** Block l's forward from resid[l]: its cached activations, and resid[l + 1] when `residOut`. */
async function prepareBlockForward(p: StackPass, l: number, residOut: boolean): Promise<Launch[]> {
  const a = p.acts.layers[l];
  const out = await prepareAttentionIn(p, l);
  if (attentionPath(p.spec) === 'grouped') {
    const [q, k, v] = a.qkvParts;
    out.push(...await prepareRotary(p, l, 0), ...await prepareGqaForward(p.ctx, gqaShape(p), { q, k, v, att: a.att, out: a.atty }));
  } else {
    out.push(...await prepareAttentionForward(p.ctx, attentionShape(p), { qkv: a.qkv, att: a.att, out: a.atty }));
  }
  out.push(...await prepareBlockOut(p, l, residOut));
  return out;
}

/** Every block: resid[0] → resid[L]; rotary positions start at 0. */
export async function prepareStackForward(p: StackPass): Promise<Launch[]> {
  const out: Launch[] = [];
  for (let l = 0; l < p.spec.L; l++) out.push(...await prepareBlockForward(p, l, true));
  return out;
}

/**
 * Grouped path, from datty to the q/k/v outputs' gradients: attention backward (dk, dv summed over each
 * group), the inverse rotation, and the per-head norms' backward (qkNorm). Returns where dq, dk, dv are.
 */
async function prepareGroupedAttentionBackward(p: StackPass, l: number): Promise<{ launches: Launch[]; grads: GPUBuffer[] }> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l];
  const [q, k, v] = a.qkvParts, [dq, dk, dv] = acts.dqkvParts;
  const launches = await prepareGqaBackward(ctx, gqaShape(p), { dout: acts.datty, q, k, v, att: a.att, dpreatt: acts.dpreatt, dq, dk, dv });
  if (spec.position === 'rotary') {
    if (!p.rope) throw new Error(`${spec.family} engine: rotary positions without cos/sin tables`);
    const { cos, sin, P } = p.rope;
    const shape = (NH: number) => ({ B: acts.B, T: acts.T, NH, HS: spec.attention.HS, pos0: 0, P });
    launches.push(
      await prepareRopeBackward(ctx, shape(spec.attention.NH), { cos, sin, x: dq }),
      await prepareRopeBackward(ctx, shape(spec.attention.NKV), { cos, sin, x: dk }),
    );
  }
  if (a.qkRaw.length === 0) return { launches, grads: [dq, dk, dv] };
  const [dqRaw, dkRaw] = acts.dqkRaw;
  launches.push(
    await prepareRmsnormBackward(ctx, headNorm(p, spec.attention.NH), { dy: dq, x: a.qkRaw[0], w: w.qNormW as GPUBuffer, rstd: a.qkRstd[0], dx: dqRaw }),
    await prepareRmsnormBackward(ctx, headNorm(p, spec.attention.NKV), { dy: dk, x: a.qkRaw[1], w: w.kNormW as GPUBuffer, rstd: a.qkRstd[1], dx: dkRaw }),
  );
  return { launches, grads: [dqRaw, dkRaw, dv] };
}

/** Block l backward: on entry dresid = dL/d resid[l+1]; on exit dL/d resid[l] (not computed for l = 0). */
async function prepareBlockBackward(p: StackPass, l: number): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l], N = acts.B * acts.T, C = spec.C;
  const scratch = { dh: acts.dh, dz: acts.dz };
  const lin = (m: string, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, acc: boolean) =>
    adaptedLinearBackward(ctx, blockLinear(p, l, m), { x, dy, dx }, scratch, acc);
  // The residual stream accumulates: dresid += normᵀ(dln).
  const out: Launch[] = [...await lin(spec.modules.down, a.fchGelu, acts.dresid, acts.dfchGelu, false)];
  if (spec.mlp === 'gated_silu') {
    const dgate = acts.dgate as GPUBuffer;
    out.push(
      await prepareSwigluBackward(ctx, { n: N * spec.I }, { g: a.gate as GPUBuffer, u: a.fch, dh: acts.dfchGelu, dg: dgate, du: acts.dfch }),
      ...await lin(spec.modules.up, a.ln2, acts.dfch, acts.dln, false),
      ...await lin(spec.modules.gate as string, a.ln2, dgate, acts.dln, true),
    );
  } else {
    out.push(
      await prepareGeluBackward(ctx, { n: N * spec.I, approximate: gelu(spec) }, { x: a.fch, dy: acts.dfchGelu, dx: acts.dfch }),
      ...await lin(spec.modules.up, a.ln2, acts.dfch, acts.dln, false),
    );
  }
  out.push(
    await prepareNormBackward(p, acts.dln, a.resMid, w.ln2w, a.ln2Mean, a.ln2Rstd, acts.dresid),
    ...await lin(spec.modules.o, a.atty, acts.dresid, acts.datty, false),
  );
  if (attentionPath(spec) === 'grouped') {
    const { launches, grads } = await prepareGroupedAttentionBackward(p, l);
    out.push(...launches);
    // dln = Σ over q, k, v of that module's dx: the first writes, the others add.
    for (const [j, m] of spec.modules.qkv.entries()) out.push(...await lin(m, a.ln1, grads[j], acts.dln, j > 0));
  } else {
    out.push(...await prepareAttentionBackward(ctx, attentionShape(p), { dout: acts.datty, qkv: a.qkv, att: a.att, dpreatt: acts.dpreatt, dqkv: acts.dqkv }));
    if (a.qkvParts.length === 0) {
      out.push(...await lin(spec.modules.qkv[0], a.ln1, acts.dqkv, acts.dln, false));
    } else {
      for (const j of [0, 1, 2]) {
        out.push(await prepareStridedCopy(ctx, { batch: 1, rows: N, cols: C, srcOffset: j * C, srcRowStride: 3 * C, dstRowStride: C },
          { src: acts.dqkv, dst: acts.dqkvParts[j] }));
      }
      for (const [j, m] of spec.modules.qkv.entries()) out.push(...await lin(m, a.ln1, acts.dqkvParts[j], acts.dln, j > 0));
    }
  }
  // Block 0's input gradient would only feed the (frozen) stem: stop there.
  if (l > 0) out.push(await prepareNormBackward(p, acts.dln, acts.resid[l], w.ln1w, a.ln1Mean, a.ln1Rstd, acts.dresid));
  return out;
}

/**
 * Every block in reverse, from dresid = dL/d resid[L] (written by the head's backward). With recomputation
 * block l's forward runs again from resid[l] into the shared activations first: the same launches as the
 * training forward's (the pass's dropout streams included, so the masks of this step are replayed), minus
 * the residual add whose output, resid[l + 1], is already held.
 */
export async function prepareStackBackward(p: StackPass): Promise<Launch[]> {
  const out: Launch[] = [];
  for (let l = p.spec.L - 1; l >= 0; l--) {
    if (p.acts.recompute) out.push(...await prepareBlockForward(p, l, false));
    out.push(...await prepareBlockBackward(p, l));
  }
  return out;
}
