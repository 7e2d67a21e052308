// Trainable ViT tensors: LoRA A/B on the targeted Linears (PEFT target_modules) and the classifier
// head, which trains normally (METHOD.md). Each tensor owns its param, grad and AdamW m/v buffers, so
// the optimizer runs one group per tensor at offset 0. Names are the PEFT adapter keys
// (STYLE.md §9), so readGrads / export are walks over this table.
import type { GpuContext } from '../../gpu/context';
import { seededUniform } from '../../ref/seeded';
import type { VitConfig } from '../../io/hfModel/config';
import { magnitudeName } from '../dora';
import { VIT_LINEAR_MODULES, type VitLinearModule, linearDims } from './weights';

export interface TrainableTensor {
  name: string;
  shape: number[];
  size: number; // elements
  param: GPUBuffer;
  grad: GPUBuffer; // written fresh by every step
  m: GPUBuffer; // AdamW first moment
  v: GPUBuffer; // AdamW second moment
}

export interface LoraSlot {
  layer: number;
  module: VitLinearModule;
  A: TrainableTensor; // (R, IN)
  B: TrainableTensor; // (OUT, R)
  /** DoRA magnitude (OUT), when the model uses DoRA. */
  M?: TrainableTensor;
}

export interface VitTrainables {
  R: number;
  scale: number; // s = lora_alpha / R
  /** slots[layer][module], undefined where the module is not targeted. */
  slots: Partial<Record<VitLinearModule, LoraSlot>>[];
  classifierW: TrainableTensor; // (NL, C)
  classifierB: TrainableTensor; // (NL)
  /** Every trainable tensor in a fixed order (A, B[, m] by layer/module, then the classifier). */
  all: TrainableTensor[];
}

/** PEFT's suffix rule: a target matches the full module name or a `.`-separated suffix of it. */
export function isTargeted(moduleName: string, targets: readonly string[]): boolean {
  return targets.some((t) => moduleName === t || moduleName.endsWith(`.${t}`));
}

export const vitModuleName = (layer: number, m: VitLinearModule) => `vit.encoder.layer.${layer}.${m}`;
export const peftLoraName = (layer: number, m: VitLinearModule, ab: 'A' | 'B') =>
  `base_model.model.${vitModuleName(layer, m)}.lora_${ab}.weight`;

function trainable(ctx: GpuContext, name: string, shape: number[], init: Float32Array): TrainableTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (init.length !== size) throw new Error(`${name}: ${init.length} values for shape [${shape}]`);
  const bytes = size * 4;
  return {
    name, shape, size,
    param: ctx.upload(`vit/param/${name}`, init),
    grad: ctx.createBuffer(`vit/grad/${name}`, bytes),
    m: ctx.createBuffer(`vit/m/${name}`, bytes),
    v: ctx.createBuffer(`vit/v/${name}`, bytes),
  };
}

/** A (R, IN) ~ U(±1/√IN) from a seed (PEFT's kaiming-uniform bound). */
export const loraInitA = (R: number, IN: number, seed: number): Float32Array =>
  seededUniform(R * IN, seed).map((u) => u / Math.sqrt(IN));

/**
 * A fresh classifier as nn.Linear(C, NL) initialises one: weight kaiming_uniform(a = √5), i.e.
 * U(−1/√C, 1/√C), and bias U(−1/√C, 1/√C) (fan_in = C); one seeded stream, weight first.
 */
export function initClassifier(C: number, NL: number, seed: number): { weight: Float32Array; bias: Float32Array } {
  const u = seededUniform(NL * C + NL, seed).map((x) => x / Math.sqrt(C));
  return { weight: u.slice(0, NL * C), bias: u.slice(NL * C) };
}

/** Default seed of a new head (distinct from the LoRA seeds 1, 2, …). */
export const DEFAULT_HEAD_SEED = 0x4ead;

export interface TrainableOptions {
  targetModules: readonly string[];
  r: number;
  loraAlpha: number;
  /** Seed of A's init; B starts at 0 so the adapted model starts equal to the base (PEFT). */
  seed?: number;
  /** Seed of a new classifier head (used only when the checkpoint's head does not fit the task). */
  headSeed?: number;
  /** DoRA (METHOD.md): a trainable magnitude per targeted Linear, initialised to W0's row norms. */
  useDora?: boolean;
}

/** LoRA A ~ U(±1/√IN) (PEFT's kaiming-uniform bound), B = 0; the classifier as given (checkpoint or initClassifier). */
export function createTrainables(
  ctx: GpuContext, cfg: VitConfig, o: TrainableOptions, classifier: { weight: Float32Array; bias: Float32Array },
  /** DoRA's initial m of a targeted Linear (row norms of its base weight); required with useDora. */
  magnitude?: (layer: number, m: VitLinearModule) => Float32Array,
): VitTrainables {
  const R = o.r;
  const slots: Partial<Record<VitLinearModule, LoraSlot>>[] = [];
  const all: TrainableTensor[] = [];
  let seed = o.seed ?? 1;
  for (let layer = 0; layer < cfg.num_hidden_layers; layer++) {
    const row: Partial<Record<VitLinearModule, LoraSlot>> = {};
    for (const module of VIT_LINEAR_MODULES) {
      if (!isTargeted(vitModuleName(layer, module), o.targetModules)) continue;
      const { IN, OUT } = linearDims(cfg, module);
      const a = loraInitA(R, IN, seed++);
      const slot: LoraSlot = {
        layer, module,
        A: trainable(ctx, peftLoraName(layer, module, 'A'), [R, IN], a),
        B: trainable(ctx, peftLoraName(layer, module, 'B'), [OUT, R], new Float32Array(OUT * R)),
      };
      if (o.useDora) {
        if (!magnitude) throw new Error('createTrainables: useDora needs the initial magnitudes');
        slot.M = trainable(ctx, magnitudeName(vitModuleName(layer, module)), [OUT], magnitude(layer, module));
      }
      row[module] = slot;
      all.push(slot.A, slot.B, ...(slot.M ? [slot.M] : []));
    }
    slots.push(row);
  }
  const NL = classifier.bias.length, C = cfg.hidden_size;
  const classifierW = trainable(ctx, 'classifier.weight', [NL, C], classifier.weight);
  const classifierB = trainable(ctx, 'classifier.bias', [NL], classifier.bias);
  all.push(classifierW, classifierB);
  if (slots.every((row) => Object.keys(row).length === 0)) throw new Error(`target_modules [${o.targetModules}] match no ViT Linear`);
  return { R, scale: o.loraAlpha / R, slots, classifierW, classifierB, all };
}

/** Every LoRA slot in a fixed order (layer, then VIT_LINEAR_MODULES order): the dropout stream index. */
export function slotList(t: VitTrainables): LoraSlot[] {
  return t.slots.flatMap((row) => VIT_LINEAR_MODULES.flatMap((m) => (row[m] ? [row[m]] : [])));
}

export function destroyTrainables(t: VitTrainables): void {
  for (const x of t.all) for (const b of [x.param, x.grad, x.m, x.v]) b.destroy();
}
