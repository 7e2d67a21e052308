// The memory plan of a training run, made before anything is allocated: the exact bytes the engine will
// ask the device for, by the categories the context tracks (src/gpu/allocations.ts) — frozen weights,
// trainables, gradients, optimizer state, activations, workspace — plus the uniforms and readback
// staging that come and go around them. Exact because it is counted by the engine's own code: the
// activation plans (src/model/*/plan.ts) run against a ledger that adds up bytes instead of allocating,
// and the trainable arena is laid out by the same layoutSlots / ArenaLayout the engine uses. Frozen
// tensors are counted one by one by frozenTensorBytes in the dtype each is uploaded in.
import { type ByCategory, MEMORY_CATEGORIES } from '../gpu/allocations';
import { storageBytes } from '../gpu/context';
import type { LoadedModel } from '../io/hfModel';
import { loraModules } from '../io/peft';
import { gradnormPartialCount } from '../kernels/gradnorm';
import { type VocabSplit, splitVocab } from '../kernels/vocab_split';
import { type LoraSlot, layoutSlots } from '../model/adaptedLinear';
import { ArenaLayout } from '../model/arena';
import { type BufferSink, blockModules } from '../model/block';
import { type FrozenWeights, frozenFormat } from '../model/frozen';
import { gpt2Spec } from '../model/families/gpt2';
import { llamaContext, llamaLoraModules, llamaSpecOf } from '../model/families/llama';
import { vitSpec } from '../model/families/vit';
import { planGpt2Acts } from '../model/gpt2/plan';
import { planLlamaActs } from '../model/llama/plan';
import { LLAMA_EMBED, LLAMA_LM_HEAD } from '../model/llama/reference';
import { planVitActs, vitDims } from '../model/vit/plan';
import { type TrainingConfig, frozenWeightsOf } from './config';
import { targetedModules } from './modules';

/** The dtypes a frozen tensor can be uploaded in; BF16 and F16 are packed two per u32. */
export type WeightDtype = 'F32' | 'BF16' | 'F16';
const DTYPE_BYTES: Record<WeightDtype, number> = { F32: 4, BF16: 2, F16: 2 };

/** GPU bytes of one frozen tensor of `numel` values uploaded in `dtype` (a buffer holds whole u32 words). */
export function frozenTensorBytes(numel: number, dtype: WeightDtype): number {
  return storageBytes(numel * DTYPE_BYTES[dtype]);
}

/** The limits a plan reads (GPUSupportedLimits has them all). */
export interface PlanLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  minStorageBufferOffsetAlignment: number;
}

/** What a plan depends on: the run's shape and adapter. */
export interface PlanOptions {
  B: number;
  /** Tokens per sequence (language models); ignored by ViT, whose T is its patch count + 1. */
  T: number;
  r: number;
  /** PEFT module paths that get an adapter (targetedModules of the config). */
  targets: readonly string[];
  useDora: boolean;
  loraDropout: number;
  recompute: boolean;
  /**
   * How the engine holds its frozen weights (src/model/frozen.ts; default 'stored': a Llama family's BF16/F16
   * linears, embedding and head packed, as engineOptions gives a single-adapter run).
   */
  frozenWeights?: FrozenWeights;
  /** The dtype each frozen tensor is uploaded in, overriding frozenWeights (what-if plans). */
  weightDtype?: (name: string) => WeightDtype;
}

export interface MemoryPlan {
  /** Bytes by category; uniforms and readback are upper bounds, every other category is exact. */
  bytes: ByCategory;
  total: number;
  /** The largest single buffer (it must fit maxBufferSize and maxStorageBufferBindingSize). */
  largestBuffer: number;
  /** Activation bytes of the same run with the other recompute setting. */
  activationsOther: number;
  options: Omit<PlanOptions, 'weightDtype' | 'frozenWeights'>;
}

/**
 * The launches' uniform buffers (each a shape, 16-64 bytes rounded to 16): an upper bound per block and per
 * stem/head, measured on the engines (test/gpu/train/memoryPlan.test.ts) with room for a few more launches.
 */
const UNIFORMS_PER_BLOCK = 16 * 1024, UNIFORMS_FIXED = 16 * 1024;

/** Counts buffers instead of allocating them: the activation plans run against it. */
class Ledger implements BufferSink {
  bytes = 0;
  largest = 0;
  createBuffer(label: string, bytes: number): GPUBuffer {
    const size = storageBytes(bytes);
    this.bytes += size;
    this.largest = Math.max(this.largest, size);
    return { label, size, destroy() {} } as unknown as GPUBuffer;
  }
}

const limitsView = (l: PlanLimits) => ({ limits: l as GPUSupportedLimits, maxTensorBytes: Math.min(l.maxBufferSize, l.maxStorageBufferBindingSize) });
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Parts { weights: number[]; slots: LoraSlot[]; layout: ArenaLayout; acts: (recompute: boolean) => Ledger; N: number }

/** The run's frozen buffers, adapter layout and activation ledger, family by family (as the engines build them). */
function familyParts(loaded: LoadedModel, o: PlanOptions, limits: PlanLimits): Parts {
  let dtype: (name: string) => WeightDtype = o.weightDtype ?? (() => 'F32');
  const layout = new ArenaLayout(limits.minStorageBufferOffsetAlignment);
  const slotOptions = { targetModules: [...o.targets], r: o.r, scale: 1, useDora: o.useDora };
  const tensor = (name: string) => frozenTensorBytes(numel(loaded.tensors.get(name)?.shape ?? []), dtype(name));
  // A (V, C) matrix is uploaded in the vocabulary chunks of the split.
  const rows = (name: string, C: number, vocab: VocabSplit) => vocab.chunks.map(({ n }) => frozenTensorBytes(n * C, dtype(name)));
  const byPathOf = (slots: LoraSlot[]) => new Map(slots.map((s) => [s.path, s]));
  if (loaded.kind === 'gpt2') {
    const c = loaded.config, spec = gpt2Spec(loaded), N = o.B * o.T;
    const vocab = splitVocab(limitsView(limits), c.vocab_size, c.n_embd, N, 'wte.weight');
    const weights = [...loaded.tensors.keys()].filter((k) => k !== 'wte.weight').map(tensor).concat(rows('wte.weight', c.n_embd, vocab));
    const slots = layoutSlots(layout, loraModules(loaded), slotOptions, 'GPT-2');
    const acts = (recompute: boolean) => {
      const ledger = new Ledger();
      planGpt2Acts(ledger, spec, c, o.B, o.T, byPathOf(slots), vocab, recompute);
      return ledger;
    };
    return { weights, slots, layout, acts, N };
  }
  if (loaded.kind === 'llama') {
    const c = loaded.config, spec = llamaSpecOf(c, loaded.tied), N = o.B * o.T, C = spec.C;
    if (!o.weightDtype) {
      // The 2-D weights keep their stored precision (src/model/llama/weights.ts); norms and biases are F32.
      const packable = new Set([LLAMA_EMBED, LLAMA_LM_HEAD]);
      for (let l = 0; l < spec.L; l++) for (const m of blockModules(spec)) packable.add(`${spec.blockPrefix(l)}${m}.weight`);
      const choice = o.frozenWeights ?? 'stored';
      const stored = (name: string) => (loaded.tensors.get(name) as { dtype?: string } | undefined)?.dtype;
      const formats: Record<string, WeightDtype> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };
      dtype = (name) => (packable.has(name) ? formats[frozenFormat(stored(name), choice)] : 'F32');
    }
    const vocab = splitVocab(limitsView(limits), c.vocab_size, C, N, LLAMA_EMBED);
    const weights = [...loaded.tensors.keys()].filter((k) => k !== LLAMA_EMBED && k !== LLAMA_LM_HEAD).map(tensor)
      .concat(rows(LLAMA_EMBED, C, vocab), loaded.tied ? [] : rows(LLAMA_LM_HEAD, C, vocab))
      // The zero position rows (T, C) and the rotary cos/sin tables (T, HS/2) each (src/model/llama/weights.ts).
      .concat(storageBytes(o.T * C * 4), 2 * storageBytes(o.T * (spec.attention.HS / 2) * 4));
    const slots = layoutSlots(layout, llamaLoraModules(loaded, spec), slotOptions, spec.family);
    const acts = (recompute: boolean) => {
      const ledger = new Ledger();
      planLlamaActs(ledger, spec, c.vocab_size, o.B, o.T, byPathOf(slots), vocab, recompute);
      return ledger;
    };
    return { weights, slots, layout, acts, N };
  }
  const spec = vitSpec(loaded), NL = loaded.head.numClasses, C = loaded.config.hidden_size;
  // The classifier trains in the arena; every other tensor is frozen.
  const weights = [...loaded.tensors.keys()].filter((k) => !k.startsWith('classifier.')).map(tensor);
  const slots = layoutSlots(layout, loraModules(loaded), slotOptions, 'ViT');
  layout.add('classifier.weight', [NL, C]);
  layout.add('classifier.bias', [NL]);
  const d = vitDims(loaded.config, NL, o.B);
  const acts = (recompute: boolean) => {
    const ledger = new Ledger();
    planVitActs(ledger, spec, d, { byPath: byPathOf(slots) }, recompute);
    return ledger;
  };
  return { weights, slots, layout, acts, N: d.N };
}

/** The plan of one run shape. */
export function planMemory(loaded: LoadedModel, o: PlanOptions, limits: PlanLimits): MemoryPlan {
  const { weightDtype: _d, frozenWeights: _f, ...options } = o;
  const p = familyParts(loaded, o, limits);
  const arena = storageBytes(p.layout.totalElems * 4);
  const acts = p.acts(o.recompute), other = p.acts(!o.recompute);
  // GradOps' norm partials and its two results (src/model/gradops.ts); LoRA dropout's three (N, max IN)
  // scratch buffers (src/model/lora_dropout.ts).
  const gradOps = storageBytes(4 * gradnormPartialCount(p.layout.table.map((e) => e.numel))) + 8 + 8;
  const dropout = o.loraDropout > 0 ? 3 * storageBytes(4 * p.N * Math.max(...p.slots.map((s) => s.IN))) : 0;
  const L = loaded.kind === 'gpt2' ? loaded.config.n_layer : loaded.kind === 'llama' ? loaded.config.num_hidden_layers : loaded.config.num_hidden_layers;
  const bytes: ByCategory = {
    weights: p.weights.reduce((a, b) => a + b, 0),
    trainables: arena,
    gradients: arena,
    optimizer: 2 * arena,
    activations: acts.bytes,
    workspace: gradOps + dropout,
    uniforms: UNIFORMS_FIXED + L * UNIFORMS_PER_BLOCK,
    // One staging buffer at a time, at most a whole arena buffer (a checkpoint's reads), plus the context's 4-byte finish probe.
    readback: arena + 4,
  };
  return {
    bytes, total: MEMORY_CATEGORIES.reduce((s, c) => s + bytes[c], 0),
    largestBuffer: Math.max(arena, acts.largest, ...p.weights), activationsOther: other.bytes, options,
  };
}

/** The sequence length a config trains a language model at (as src/train/run.ts clamps it). */
export function trainingT(loaded: LoadedModel, c: Pick<TrainingConfig, 'seqLen'>): number {
  if (loaded.kind === 'gpt2') return Math.min(c.seqLen, loaded.config.n_positions);
  if (loaded.kind === 'llama') return Math.min(c.seqLen, llamaContext(loaded.config));
  return 0;
}

/** A config's plan options; frozen weights as engineOptions holds them (the config's, cascades F32), unless `frozen` says. */
export function planOptions(loaded: LoadedModel, c: TrainingConfig, frozen?: FrozenWeights): PlanOptions {
  return {
    B: c.batchSize, T: trainingT(loaded, c), r: c.r, targets: targetedModules(loaded, c.targetModules).map((m) => m.path),
    useDora: c.useDora, loraDropout: c.loraDropout, recompute: c.recompute, frozenWeights: frozen ?? frozenWeightsOf(c),
  };
}

/** The plan of a resolved training config. */
export function planTraining(loaded: LoadedModel, c: TrainingConfig, limits: PlanLimits, frozen?: FrozenWeights): MemoryPlan {
  return planMemory(loaded, planOptions(loaded, c, frozen), limits);
}

const MIB = 2 ** 20;
export const mib = (bytes: number): string => `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 2 : 1)} MiB`;

export interface Fit {
  fits: boolean;
  /** One line: what does not fit and what to change. */
  why?: string;
}

/**
 * Does the plan fit the device? Every buffer must fit the binding limit, and the total must fit `budget`
 * (bytes the device can give, where known). When not, one line names what to change, trying in order:
 * recomputation, a smaller batch, a shorter sequence, a lower rank — the first that makes it fit.
 */
export function checkFit(loaded: LoadedModel, o: PlanOptions, limits: PlanLimits, budget?: number): Fit {
  const maxBuffer = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const ok = (p: MemoryPlan) => p.largestBuffer <= maxBuffer && (budget === undefined || p.total <= budget);
  const plan = planMemory(loaded, o, limits);
  if (ok(plan)) return { fits: true };
  const what = plan.largestBuffer > maxBuffer
    ? `its largest buffer needs ${mib(plan.largestBuffer)}; this device binds at most ${mib(maxBuffer)}`
    : `it needs ${mib(plan.total)} of GPU memory; this device has ${mib(budget as number)}`;
  const tries: [string, (x: number) => PlanOptions, number[]][] = [
    ['turn on activation recomputation', () => ({ ...o, recompute: true }), o.recompute ? [] : [1]],
    ['lower the batch size to', (B) => ({ ...o, B }), halvings(o.B)],
    ['lower the sequence length to', (T) => ({ ...o, T }), loaded.kind === 'vit' ? [] : halvings(o.T).filter((t) => t >= 2)],
    ['lower the rank to', (r) => ({ ...o, r }), halvings(o.r)],
  ];
  for (const [say, change, values] of tries) {
    for (const v of values) {
      try {
        if (ok(planMemory(loaded, change(v), limits))) return { fits: false, why: `This run does not fit: ${what}. ${capital(say)}${values.length > 1 || say.endsWith('to') ? ` ${v}` : ''}.` };
      } catch { /* a shape the engine refuses (a vocabulary column over the limit): try the next */ }
    }
  }
  return { fits: false, why: `This run does not fit: ${what}. Lower the batch size, sequence length or rank, or turn on activation recomputation.` };
}

const capital = (s: string) => s[0].toUpperCase() + s.slice(1);

/** n/2, n/4, … down to 1 (largest first), without n. */
function halvings(n: number): number[] {
  const out: number[] = [];
  for (let x = Math.floor(n / 2); x >= 1; x = Math.floor(x / 2)) out.push(x);
  return out;
}

/** The plan as lines for the CLI and logs: each category, the total and the largest buffer against the limit. */
export function formatPlan(p: MemoryPlan, limits?: PlanLimits): string[] {
  const o = p.options;
  const lines = [
    `memory plan (B=${o.B}${o.T ? `, T=${o.T}` : ''}, r=${o.r}, ${o.useDora ? 'DoRA' : 'LoRA'}, ${o.targets.length} adapted modules, recompute ${o.recompute ? 'on' : 'off'}):`,
    `  frozen weights  ${mib(p.bytes.weights)}`,
    `  trainables      ${mib(p.bytes.trainables)}`,
    `  gradients       ${mib(p.bytes.gradients)}`,
    `  optimizer       ${mib(p.bytes.optimizer)} (AdamW m, v)`,
    `  activations     ${mib(p.bytes.activations)} (recompute ${o.recompute ? 'off' : 'on'}: ${mib(p.activationsOther)})`,
    `  workspace       ${mib(p.bytes.workspace + p.bytes.uniforms + p.bytes.readback)} (scratch, launch uniforms, readback; at most)`,
    `  total           ${mib(p.total)}; largest buffer ${mib(p.largestBuffer)}${limits ? ` of ${mib(Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize))} allowed` : ''}`,
  ];
  return lines;
}
