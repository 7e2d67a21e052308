// From a loaded HF model to an engine model on the GPU, the same way for the studio's worker, the CLI
// page and the tests: GPT-2 → Gpt2LoraModel and the Llama families → LlamaLoraModel (fixed batch shape
// B×T), ViT → VitLoraModel. The LoRA
// targets are passed as the full module paths the caller resolved (so a regex target_modules works for
// both families), and an imported PEFT adapter is written into the slots by its PEFT keys.
import type { GpuContext } from '../gpu/context';
import { type LoadedGpt2, type LoadedLlama, type LoadedModel, type LoadedVit, loadModelDir, type ModelDirSource } from '../io/hfModel';
import { type ImportedAdapter, readAdapterDir } from '../io/peft';
import { fromTokenizerJson, fromVocabMerges, type ByteLevelBpeTokenizer } from '../io/tokenizer';
import { llamaSpec } from '../model/families/llama';
import { Gpt2LoraModel } from '../model/gpt2/model';
import { LlamaLoraModel } from '../model/llama/model';
import { VitLoraModel } from '../model/vit/model';
import type { FrozenWeights } from '../model/frozen';
import { type TrainingConfig, frozenWeightsOf, loraScale } from './config';
import { type LinearModule, linearModules } from './modules';
import type { EngineModel } from './trainer';

export interface EngineOptions {
  targets: LinearModule[];
  r: number;
  /** The LoRA scale s (y = W0·x + s·B·A·x), computed once from the config (loraScale) or the adapter. */
  scale: number;
  useDora: boolean;
  /** GPT-2: sequences per batch and tokens per sequence. ViT: batch size is free. */
  B: number;
  T: number;
  seed: number;
  weightDecay?: number;
  /** PEFT lora_dropout on the LoRA input during training steps (masks seeded from `seed`). */
  loraDropout?: number;
  /**
   * Llama families: frozen weights in their stored precision (a BF16/F16 checkpoint stays 2 bytes per
   * parameter, the default) or all F32. Methods that rewrite the base weight need 'f32' (engineOptions).
   */
  frozenWeights?: FrozenWeights;
  /** Recompute each block's forward in the backward instead of holding every block's activations. */
  recompute?: boolean;
}

/**
 * The engine a resolved TrainingConfig trains: its targets, rank, scale (loraScale: lora_alpha/r, or /√r
 * with rsLoRA), DoRA, dropout and batch shape (T: GPT-2 tokens per row).
 */
export function engineOptions(c: TrainingConfig, targets: LinearModule[], T: number): EngineOptions {
  return {
    targets, r: c.r, scale: loraScale(c), useDora: c.useDora,
    B: c.batchSize, T, seed: c.seed, weightDecay: c.weightDecay, loraDropout: c.loraDropout, recompute: c.recompute,
    // The config's choice; LoRASC noise and COLA/LoRASC merges write the base weight: F32, never re-rounded (docs/engineering.md#frozen-weights).
    frozenWeights: frozenWeightsOf(c),
  };
}

/** DoRA slots only when asked for (the model options carry no flag otherwise). */
const dora = (useDora: boolean) => (useDora ? { useDora: true } : {});

/** Either engine, for code that uses only the surface that does not depend on the input type. */
export type AnyEngine = EngineModel<Uint32Array> | EngineModel<Float32Array>;

/** The engine of a loaded model, typed by its family: a GPT-2 gives a Gpt2LoraModel, a ViT a VitLoraModel. */
export async function createEngine(ctx: GpuContext, loaded: LoadedGpt2, o: EngineOptions): Promise<Gpt2LoraModel>;
export async function createEngine(ctx: GpuContext, loaded: LoadedVit, o: EngineOptions): Promise<VitLoraModel>;
export async function createEngine(ctx: GpuContext, loaded: LoadedLlama, o: EngineOptions): Promise<LlamaLoraModel>;
export async function createEngine(ctx: GpuContext, loaded: LoadedModel, o: EngineOptions): Promise<AnyEngine>;
export async function createEngine(ctx: GpuContext, loaded: LoadedModel, o: EngineOptions): Promise<AnyEngine> {
  const tokens = loaded.kind !== 'vit';
  return ctx.allocating(`the ${familyName(loaded)} engine (batch ${o.B}${tokens ? ` × ${o.T} tokens` : ''}, rank ${o.r})`, () => build(ctx, loaded, o), (e) => e.destroy());
}

/** The family's name for messages. */
export const familyName = (loaded: LoadedModel): string =>
  (loaded.kind === 'gpt2' ? 'GPT-2' : loaded.kind === 'vit' ? 'ViT' : llamaSpec(loaded).family);

async function build(ctx: GpuContext, loaded: LoadedModel, o: EngineOptions): Promise<AnyEngine> {
  const targetModules = o.targets.map((m) => m.path);
  if (loaded.kind === 'gpt2') {
    if (o.T > loaded.config.n_positions) throw new Error(`sequence length ${o.T} exceeds the model's n_positions ${loaded.config.n_positions}`);
    return Gpt2LoraModel.create(ctx, loaded, { targetModules, r: o.r, scale: o.scale, B: o.B, T: o.T, seed: o.seed, ...dora(o.useDora), loraDropout: o.loraDropout ?? 0, recompute: o.recompute ?? false });
  }
  if (loaded.kind === 'llama') {
    return LlamaLoraModel.create(ctx, loaded, {
      targetModules, r: o.r, scale: o.scale, B: o.B, T: o.T, seed: o.seed, ...dora(o.useDora), loraDropout: o.loraDropout ?? 0, frozenWeights: o.frozenWeights,
      recompute: o.recompute ?? false,
    });
  }
  return VitLoraModel.create(ctx, loaded, {
    targetModules, r: o.r, scale: o.scale, seed: o.seed, ...dora(o.useDora), loraDropout: o.loraDropout ?? 0, recompute: o.recompute ?? false,
    adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay ?? 0 },
  });
}

/**
 * The plain engine for inference: the model's own weights (or `weights`, by module path: a run's merged
 * backbone) and a no-op adapter (one rank-1 slot with B = 0, which adds exactly nothing); a ViT head
 * given in `head` (classifier.weight/.bias) replaces the loaded one.
 */
export async function createPlainEngine(ctx: GpuContext, loaded: LoadedGpt2, shape: { B: number; T: number }, weights?: ReadonlyMap<string, Float32Array>, head?: ReadonlyMap<string, Float32Array>): Promise<Gpt2LoraModel>;
export async function createPlainEngine(ctx: GpuContext, loaded: LoadedVit, shape: { B: number; T: number }, weights?: ReadonlyMap<string, Float32Array>, head?: ReadonlyMap<string, Float32Array>): Promise<VitLoraModel>;
export async function createPlainEngine(ctx: GpuContext, loaded: LoadedLlama, shape: { B: number; T: number }, weights?: ReadonlyMap<string, Float32Array>): Promise<LlamaLoraModel>;
export async function createPlainEngine(ctx: GpuContext, loaded: LoadedModel, shape: { B: number; T: number }, weights?: ReadonlyMap<string, Float32Array>, head?: ReadonlyMap<string, Float32Array>): Promise<AnyEngine>;
export async function createPlainEngine(
  ctx: GpuContext, loaded: LoadedModel, shape: { B: number; T: number }, weights?: ReadonlyMap<string, Float32Array>, head?: ReadonlyMap<string, Float32Array>,
): Promise<AnyEngine> {
  const modules = linearModules(loaded);
  // Replacement weights (a merged backbone) are written as F32: never re-rounded to a packed format.
  const engine = await createEngine(ctx, loaded, {
    targets: [modules[0]], r: 1, scale: 1, useDora: false, B: shape.B, T: shape.T, seed: 0, frozenWeights: weights ? 'f32' : 'stored',
  });
  try {
    if (weights) for (const m of modules) { const w = weights.get(m.path); if (w) engine.setBaseWeight(m.path, w); }
    engine.initLora(0); // B = 0: no adapter effect
    if (head?.size) engine.setLoraWeights(head);
  } catch (e) {
    engine.destroy();
    throw e;
  }
  return engine;
}

/**
 * Logits of one input through any engine. The input's type picks the family (token ids: GPT-2 and the
 * Llama families, pixels: ViT); an engine of the other kind is refused rather than fed the wrong buffer.
 */
export function forwardLogits(e: AnyEngine, input: Uint32Array | Float32Array): Promise<Float32Array> {
  if (e instanceof Gpt2LoraModel || e instanceof LlamaLoraModel) {
    if (!(input instanceof Uint32Array)) throw new Error('a language-model engine takes token ids (Uint32Array)');
    return e.forwardLogits(input);
  }
  if (e instanceof VitLoraModel) {
    if (!(input instanceof Float32Array)) throw new Error('a ViT engine takes pixels (Float32Array)');
    return e.forwardLogits(input);
  }
  throw new Error('forwardLogits: not an engine of this studio');
}

/** An imported adapter's tensors (and a ViT head, if it carries one) by the engine's trainable names. */
export function adapterValues(adapter: ImportedAdapter): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const m of adapter.modules) {
    const key = `base_model.model.${m.path}`;
    values.set(`${key}.lora_A.weight`, m.A);
    values.set(`${key}.lora_B.weight`, m.B);
    if (m.magnitude) values.set(`${key}.lora_magnitude_vector`, m.magnitude);
  }
  if (adapter.classifier) {
    values.set('classifier.weight', adapter.classifier.weight);
    values.set('classifier.bias', adapter.classifier.bias);
  }
  return values;
}

/** Writes an imported adapter (and a ViT head, if it carries one) into an engine made for it. */
export function applyAdapter(model: AnyEngine, adapter: ImportedAdapter): void {
  model.setLoraWeights(adapterValues(adapter));
}

/** Engine options that reproduce an imported adapter exactly: its modules, rank and scale. */
export function adapterEngineOptions(adapter: ImportedAdapter, modules: LinearModule[]): Pick<EngineOptions, 'targets' | 'r' | 'scale' | 'useDora'> {
  const paths = new Set(adapter.modules.map((m) => m.path));
  const r = adapter.modules[0]?.r ?? adapter.config.r;
  return { targets: modules.filter((m) => paths.has(m.path)), r, scale: adapter.scale, useDora: adapter.config.useDora };
}

export async function importAdapter(source: ModelDirSource, loaded: LoadedModel): Promise<ImportedAdapter> {
  return readAdapterDir(source, loaded);
}

/**
 * A PEFT adapter for a loaded model. A ViT adapter whose saved classifier has another class count than
 * the loaded head needs the model loaded for that count (a new head), so it is loaded again for it.
 */
export async function loadWithAdapter(model: ModelDirSource, adapter: ModelDirSource, loaded: LoadedModel): Promise<{ loaded: LoadedModel; adapter: ImportedAdapter }> {
  const imported = await importAdapter(adapter, loaded);
  if (loaded.kind !== 'vit' || !imported.classifier || imported.classifier.numClasses === loaded.head.numClasses) return { loaded, adapter: imported };
  const reloaded = await loadModelDir(model, { numClasses: imported.classifier.numClasses });
  return { loaded: reloaded, adapter: await importAdapter(adapter, reloaded) };
}

/** tokenizer.json, else vocab.json + merges.txt; null when the folder has neither. */
export async function loadTokenizer(source: ModelDirSource): Promise<ByteLevelBpeTokenizer | null> {
  const names = new Set(source.names);
  const text = async (n: string) => new TextDecoder().decode(await source.read(n));
  if (names.has('tokenizer.json')) return fromTokenizerJson(await text('tokenizer.json'), 'tokenizer.json');
  if (names.has('vocab.json') && names.has('merges.txt')) return fromVocabMerges(await text('vocab.json'), await text('merges.txt'));
  return null;
}
