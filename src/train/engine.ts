// From a loaded HF model to an engine model on the GPU, the same way for the studio's worker, the CLI
// page and the tests: GPT-2 → Gpt2LoraModel (fixed batch shape B×T), ViT → VitLoraModel. The LoRA
// targets are passed as the full module paths the caller resolved (so a regex target_modules works for
// both families), and an imported PEFT adapter is written into the slots by its PEFT keys.
import type { GpuContext } from '../gpu/context';
import { type LoadedModel, loadModelDir, type ModelDirSource } from '../io/hfModel';
import { type ImportedAdapter, readAdapterDir } from '../io/peft';
import { fromTokenizerJson, fromVocabMerges, type ByteLevelBpeTokenizer } from '../io/tokenizer';
import { Gpt2LoraModel } from '../model/gpt2/model';
import { VitLoraModel } from '../model/vit/model';
import { type TrainingConfig, loraScale } from './config';
import type { LinearModule } from './modules';
import type { EngineModel } from './trainer';

export interface EngineOptions {
  targets: LinearModule[];
  r: number;
  /** lora_alpha such that s = loraAlpha / r is the wanted scale (rsLoRA: pass s·r). */
  loraAlpha: number;
  useDora: boolean;
  /** GPT-2: sequences per batch and tokens per sequence. ViT: batch size is free. */
  B: number;
  T: number;
  seed: number;
  weightDecay?: number;
  /** PEFT lora_dropout on the LoRA input during training steps (masks seeded from `seed`). */
  loraDropout?: number;
}

/**
 * The engine a resolved TrainingConfig trains: its targets, rank, scale (lora_alpha/r, or /√r with
 * rsLoRA, passed as the lora_alpha that gives it), DoRA, dropout and batch shape (T: GPT-2 tokens per row).
 */
export function engineOptions(c: TrainingConfig, targets: LinearModule[], T: number): EngineOptions {
  return {
    targets, r: c.r, loraAlpha: loraScale(c) * c.r, useDora: c.useDora,
    B: c.batchSize, T, seed: c.seed, weightDecay: c.weightDecay, loraDropout: c.loraDropout,
  };
}

/** DoRA slots only when asked for (the model options carry no flag otherwise). */
const dora = (useDora: boolean) => (useDora ? { useDora: true } : {});

export type AnyEngine = EngineModel<Uint32Array> | EngineModel<Float32Array>;

export async function createEngine(ctx: GpuContext, loaded: LoadedModel, o: EngineOptions): Promise<AnyEngine> {
  return ctx.allocating(`the ${loaded.kind === 'gpt2' ? 'GPT-2' : 'ViT'} engine (batch ${o.B}${loaded.kind === 'gpt2' ? ` × ${o.T} tokens` : ''}, rank ${o.r})`, () => build(ctx, loaded, o), (e) => e.destroy());
}

async function build(ctx: GpuContext, loaded: LoadedModel, o: EngineOptions): Promise<AnyEngine> {
  const targetModules = o.targets.map((m) => m.path);
  if (loaded.kind === 'gpt2') {
    if (o.T > loaded.config.n_positions) throw new Error(`sequence length ${o.T} exceeds the model's n_positions ${loaded.config.n_positions}`);
    return Gpt2LoraModel.create(ctx, loaded, { targetModules, r: o.r, loraAlpha: o.loraAlpha, B: o.B, T: o.T, seed: o.seed, ...dora(o.useDora), loraDropout: o.loraDropout ?? 0 });
  }
  return VitLoraModel.create(ctx, loaded, {
    targetModules, r: o.r, loraAlpha: o.loraAlpha, seed: o.seed, ...dora(o.useDora), loraDropout: o.loraDropout ?? 0,
    adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay ?? 0 },
  });
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
export function adapterEngineOptions(adapter: ImportedAdapter, modules: LinearModule[]): Pick<EngineOptions, 'targets' | 'r' | 'loraAlpha' | 'useDora'> {
  const paths = new Set(adapter.modules.map((m) => m.path));
  const r = adapter.modules[0]?.r ?? adapter.config.r;
  return { targets: modules.filter((m) => paths.has(m.path)), r, loraAlpha: adapter.scale * r, useDora: adapter.config.useDora };
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
