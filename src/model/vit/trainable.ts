// Trainable ViT tensors: LoRA A/B (and DoRA's m) on the targeted Linears (PEFT target_modules) and the
// classifier head, which trains normally (docs/method.md#head), all in one trainable arena (../arena.ts) in this
// order — the order AdamW, checkpoints and export walk. Names are the PEFT adapter keys and the head's
// own `classifier.weight` / `classifier.bias`.
import type { GpuContext } from '../../gpu/context';
import { type LoadedVit } from '../../io/hfModel';
import { loraModules } from '../../io/peft';
import { seededUniform } from '../../ref/seeded';
import { type BaseNorms, type LoraSlot, type SlotOptions, initialLoraValues, layoutSlots } from '../adaptedLinear';
import { ArenaLayout, TrainableArena, type TrainableEntry } from '../arena';

export interface VitTrainables {
  /** Every LoRA slot in model order (layer, then VIT_LINEAR_MODULES order). */
  slots: LoraSlot[];
  /** The same slots by PEFT module path (vit.encoder.layer.{i}.<module>). */
  byPath: Map<string, LoraSlot>;
  classifierW: TrainableEntry; // (NL, C)
  classifierB: TrainableEntry; // (NL)
  arena: TrainableArena;
}

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

export interface TrainableOptions extends SlotOptions {
  /** Seed of A's init; B starts at 0 so the adapted model starts equal to the base (PEFT). */
  seed?: number;
  /** Seed of a new classifier head (used only when the checkpoint's head does not fit the task). */
  headSeed?: number;
}

/**
 * Lays out and fills the arena: a fresh adapter from `o.seed` (../adaptedLinear.ts initialLoraValues,
 * DoRA's m from `baseNorms`), then the classifier as given (checkpoint or initClassifier).
 */
export function createTrainables(
  ctx: GpuContext, loaded: LoadedVit, o: TrainableOptions, classifier: { weight: Float32Array; bias: Float32Array },
  baseNorms: BaseNorms,
): VitTrainables {
  const layout = new ArenaLayout(ctx.limits.minStorageBufferOffsetAlignment);
  const slots = layoutSlots(layout, loraModules(loaded), o, 'ViT');
  const NL = classifier.bias.length, C = loaded.config.hidden_size;
  const classifierW = layout.add('classifier.weight', [NL, C]);
  const classifierB = layout.add('classifier.bias', [NL]);
  const arena = TrainableArena.create(ctx, layout, 'vit/trainable');
  const values = initialLoraValues(slots, o.seed ?? 0, baseNorms);
  values.set(classifierW.name, classifier.weight);
  values.set(classifierB.name, classifier.bias);
  arena.write('params', values, true);
  arena.resetOptimizer();
  return { slots, byPath: new Map(slots.map((s) => [s.path, s])), classifierW, classifierB, arena };
}
