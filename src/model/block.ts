// The block engine every family runs: L pre-norm transformer blocks, as prepared launches,
//   a = norm1(x);  q|k|v = qkv(a) (one fused module, or three packed into Q | K | V columns)
//   y = attention(q, k, v) (causal or bidirectional);  m = x + o(y)
//   x' = m + down(act(up(norm2(m))))
// and their backward to the adapters (the arena's gradients) and the residual stream. Each linear is
// an adaptedLinear (./adaptedLinear.ts); what a family's block is comes from its spec
// (./families/spec.ts). The stem before resid[0] and the head after resid[L] are the family's.
import type { GpuContext, Launch } from '../gpu/context';
import { prepareAttentionBackward, prepareAttentionForward } from '../kernels/attention';
import { prepareElementwiseAdd } from '../kernels/elementwise';
import { prepareGeluBackward, prepareGeluForward } from '../kernels/gelu';
import { prepareLayernormBackward, prepareLayernormForward } from '../kernels/layernorm';
import { prepareStridedCopy } from '../kernels/strided_copy';
import { type AdaptedLinear, type FrozenLinear, type LoraSlot, adaptedLinearBackward, adaptedLinearForward } from './adaptedLinear';
import type { TrainableArena } from './arena';
import { type FamilySpec, checkImplemented } from './families/spec';
import type { DropoutStreams } from './lora_dropout';

/** Frozen weights of one block: the two norms and every linear by its name under the block prefix. */
export interface BlockWeights {
  ln1w: GPUBuffer; // (C)
  ln1b: GPUBuffer; // (C)
  ln2w: GPUBuffer; // (C)
  ln2b: GPUBuffer; // (C)
  linear: Record<string, FrozenLinear>;
}

/**
 * Uploads every block's frozen weights by the spec's names (`get` uploads a canonical tensor once and
 * returns its buffer). IN/OUT come from the stored shape, read in the spec's layout.
 */
export function uploadBlocks(
  spec: FamilySpec, tensors: ReadonlyMap<string, { shape: readonly number[] }>, get: (name: string) => GPUBuffer,
): BlockWeights[] {
  checkImplemented(spec);
  const bias = (m: string) => (spec.modules.qkv.includes(m) ? spec.biases.qkv : m === spec.modules.o ? spec.biases.o : spec.biases.mlp);
  return Array.from({ length: spec.L }, (_, l) => {
    const h = spec.blockPrefix(l);
    const linear: Record<string, FrozenLinear> = {};
    for (const m of [...spec.modules.qkv, spec.modules.o, spec.modules.up, spec.modules.down]) {
      const t = tensors.get(`${h}${m}.weight`);
      if (!t || t.shape.length !== 2) throw new Error(`${spec.family} engine: no 2-D weight ${h}${m}.weight`);
      const [d0, d1] = t.shape;
      const [IN, OUT] = spec.layout === 'conv1d' ? [d0, d1] : [d1, d0];
      linear[m] = { w: get(`${h}${m}.weight`), b: bias(m) ? get(`${h}${m}.bias`) : undefined, IN, OUT, layout: spec.layout };
    }
    const { n1, n2 } = spec.norms;
    return { ln1w: get(`${h}${n1}.weight`), ln1b: get(`${h}${n1}.bias`), ln2w: get(`${h}${n2}.weight`), ln2b: get(`${h}${n2}.bias`), linear };
  });
}

/** What block l's forward caches for its backward (N = B·T rows). */
export interface BlockActs {
  ln1: GPUBuffer; // (N, C) norm1 output = q/k/v input
  ln1Mean: GPUBuffer; // (N)
  ln1Rstd: GPUBuffer; // (N)
  qkvParts: GPUBuffer[]; // separate q, k, v outputs (N, C) each; empty for a fused qkv module
  qkv: GPUBuffer; // (N, 3C) Q | K | V columns
  att: GPUBuffer; // (B, NH, T, T) softmax probabilities
  atty: GPUBuffer; // (N, C) attention output = o input
  resMid: GPUBuffer; // (N, C) residual after attention
  ln2: GPUBuffer; // (N, C) norm2 output = up input
  ln2Mean: GPUBuffer; // (N)
  ln2Rstd: GPUBuffer; // (N)
  fch: GPUBuffer; // (N, I) up output, before the activation
  fchGelu: GPUBuffer; // (N, I) activation output = down input
  /** Per targeted module (by name under the block prefix): h = x·Aᵀ (N, R); DoRA's z (N, OUT) and norm (OUT). */
  loraH: Map<string, GPUBuffer>;
  doraZ: Map<string, GPUBuffer>;
  doraNorm: Map<string, GPUBuffer>;
}

/** Activations of the whole stack for one (B, T), plus the backward's scratch shared by every block. */
export interface StackActs {
  B: number;
  T: number;
  /** resid[l] enters block l; resid[L] leaves the stack (the head's input). */
  resid: GPUBuffer[];
  layers: BlockActs[];
  proj: GPUBuffer; // (N, C) an o/down output before its residual add
  dresid: GPUBuffer; // (N, C) gradient of the residual stream
  dln: GPUBuffer; // (N, C) gradient of a norm output
  datty: GPUBuffer; // (N, C)
  dqkv: GPUBuffer; // (N, 3C)
  dqkvParts: GPUBuffer[]; // (N, C) each, separate q/k/v only
  dpreatt: GPUBuffer; // (B, NH, T, T)
  dfchGelu: GPUBuffer; // (N, I)
  dfch: GPUBuffer; // (N, I)
  dh: GPUBuffer; // (N, R) LoRA scratch
  dz: GPUBuffer; // (N, max OUT) DoRA scratch (1 element without DoRA)
  all: GPUBuffer[]; // every buffer above, for destroy
}

/** Plans the stack for (B, T); `slotOf(l, module)` says which modules of block l carry an adapter. */
export function planStack(
  ctx: GpuContext, spec: FamilySpec, B: number, T: number, slotOf: (l: number, module: string) => LoraSlot | undefined, label: string,
): StackActs {
  checkImplemented(spec);
  const { C, I, L } = spec, NH = spec.attention.NH, N = B * T;
  const all: GPUBuffer[] = [];
  const f = (name: string, n: number) => {
    const b = ctx.createBuffer(`${label}/${name}`, n * 4);
    all.push(b);
    return b;
  };
  const separate = spec.modules.qkv.length === 3;
  const modules = [...spec.modules.qkv, spec.modules.o, spec.modules.up, spec.modules.down];
  let R = 0, dora = false;
  const layers = Array.from({ length: L }, (_, l): BlockActs => {
    const h = `h.${l}.`;
    const loraH = new Map<string, GPUBuffer>(), doraZ = new Map<string, GPUBuffer>(), doraNorm = new Map<string, GPUBuffer>();
    for (const m of modules) {
      const slot = slotOf(l, m);
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
      ln1: f(`${h}ln1`, N * C), ln1Mean: f(`${h}ln1Mean`, N), ln1Rstd: f(`${h}ln1Rstd`, N),
      qkvParts: separate ? [0, 1, 2].map((j) => f(`${h}qkv.${j}`, N * C)) : [],
      qkv: f(`${h}qkv`, N * 3 * C), att: f(`${h}att`, B * NH * T * T), atty: f(`${h}atty`, N * C),
      resMid: f(`${h}resMid`, N * C),
      ln2: f(`${h}ln2`, N * C), ln2Mean: f(`${h}ln2Mean`, N), ln2Rstd: f(`${h}ln2Rstd`, N),
      fch: f(`${h}fch`, N * I), fchGelu: f(`${h}fchGelu`, N * I),
      loraH, doraZ, doraNorm,
    };
  });
  return {
    B, T, layers,
    resid: Array.from({ length: L + 1 }, (_, l) => f(`resid.${l}`, N * C)),
    proj: f('proj', N * C),
    dresid: f('dresid', N * C), dln: f('dln', N * C), datty: f('datty', N * C), dqkv: f('dqkv', N * 3 * C),
    dqkvParts: separate ? [0, 1, 2].map((j) => f(`dqkv.${j}`, N * C)) : [],
    dpreatt: f('dpreatt', B * NH * T * T), dfchGelu: f('dfchGelu', N * I), dfch: f('dfch', N * I),
    dh: f('dh', N * Math.max(1, R)),
    dz: f('dz', dora ? N * Math.max(3 * C, I) : 1),
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

/** norm1 and the q/k/v projection of block l: resid[l] → qkv (N, 3C). */
export async function prepareAttentionIn(p: StackPass, l: number): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l], N = acts.B * acts.T, C = spec.C;
  const out: Launch[] = [
    await prepareLayernormForward(ctx, lnShape(p), { x: acts.resid[l], w: w.ln1w, b: w.ln1b, y: a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd }),
  ];
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

/** The rest of block l after attention: o, residual, norm2, MLP, residual → resid[l + 1]. */
export async function prepareBlockOut(p: StackPass, l: number): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l], n = acts.B * acts.T * spec.C;
  return [
    ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.o), a.atty, acts.proj),
    await prepareElementwiseAdd(ctx, { n }, { a: acts.resid[l], b: acts.proj, out: a.resMid }),
    await prepareLayernormForward(ctx, lnShape(p), { x: a.resMid, w: w.ln2w, b: w.ln2b, y: a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd }),
    ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.up), a.ln2, a.fch),
    await prepareGeluForward(ctx, { n: acts.B * acts.T * spec.I, approximate: gelu(spec) }, { x: a.fch, out: a.fchGelu }),
    ...await adaptedLinearForward(ctx, blockLinear(p, l, spec.modules.down), a.fchGelu, acts.proj),
    await prepareElementwiseAdd(ctx, { n }, { a: a.resMid, b: acts.proj, out: acts.resid[l + 1] }),
  ];
}

const attentionShape = (p: StackPass) =>
  ({ B: p.acts.B, T: p.acts.T, C: p.spec.C, NH: p.spec.attention.NH, causal: p.spec.attention.causal });

/** Every block: resid[0] → resid[L]. */
export async function prepareStackForward(p: StackPass): Promise<Launch[]> {
  const out: Launch[] = [];
  for (let l = 0; l < p.spec.L; l++) {
    const a = p.acts.layers[l];
    out.push(
      ...await prepareAttentionIn(p, l),
      ...await prepareAttentionForward(p.ctx, attentionShape(p), { qkv: a.qkv, att: a.att, out: a.atty }),
      ...await prepareBlockOut(p, l),
    );
  }
  return out;
}

/** Block l backward: on entry dresid = dL/d resid[l+1]; on exit dL/d resid[l] (not computed for l = 0). */
async function prepareBlockBackward(p: StackPass, l: number): Promise<Launch[]> {
  const { ctx, acts, spec } = p;
  const a = acts.layers[l], w = p.blocks[l], N = acts.B * acts.T, C = spec.C;
  const scratch = { dh: acts.dh, dz: acts.dz };
  const lin = (m: string, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, acc: boolean) =>
    adaptedLinearBackward(ctx, blockLinear(p, l, m), { x, dy, dx }, scratch, acc);
  const ln = { ...lnShape(p), accumulateDx: true }; // the residual stream accumulates: dresid += normᵀ(dln)
  const out: Launch[] = [
    ...await lin(spec.modules.down, a.fchGelu, acts.dresid, acts.dfchGelu, false),
    await prepareGeluBackward(ctx, { n: N * spec.I, approximate: gelu(spec) }, { x: a.fch, dy: acts.dfchGelu, dx: acts.dfch }),
    ...await lin(spec.modules.up, a.ln2, acts.dfch, acts.dln, false),
    await prepareLayernormBackward(ctx, ln, { dy: acts.dln, x: a.resMid, w: w.ln2w, mean: a.ln2Mean, rstd: a.ln2Rstd, dx: acts.dresid }),
    ...await lin(spec.modules.o, a.atty, acts.dresid, acts.datty, false),
    ...await prepareAttentionBackward(ctx, attentionShape(p), { dout: acts.datty, qkv: a.qkv, att: a.att, dpreatt: acts.dpreatt, dqkv: acts.dqkv }),
  ];
  if (a.qkvParts.length === 0) {
    out.push(...await lin(spec.modules.qkv[0], a.ln1, acts.dqkv, acts.dln, false));
  } else {
    for (const j of [0, 1, 2]) {
      out.push(await prepareStridedCopy(ctx, { batch: 1, rows: N, cols: C, srcOffset: j * C, srcRowStride: 3 * C, dstRowStride: C },
        { src: acts.dqkv, dst: acts.dqkvParts[j] }));
    }
    // dln = Σ over q, k, v of that module's dx: the first writes, the others add.
    for (const [j, m] of spec.modules.qkv.entries()) out.push(...await lin(m, a.ln1, acts.dqkvParts[j], acts.dln, j > 0));
  }
  // Block 0's input gradient would only feed the (frozen) stem: stop there.
  if (l > 0) out.push(await prepareLayernormBackward(ctx, ln, { dy: acts.dln, x: acts.resid[l], w: w.ln1w, mean: a.ln1Mean, rstd: a.ln1Rstd, dx: acts.dresid }));
  return out;
}

/** Every block in reverse, from dresid = dL/d resid[L] (written by the head's backward). */
export async function prepareStackBackward(p: StackPass): Promise<Launch[]> {
  const out: Launch[] = [];
  for (let l = p.spec.L - 1; l >= 0; l--) out.push(...await prepareBlockBackward(p, l));
  return out;
}
