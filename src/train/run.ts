// The run pipeline: one way from a loaded model, the user's data and a partial config to a trained run,
// for the studio's worker, the CLI page and the study alike. `prepareRun` resolves the config (preset by
// model family), prepares the data (text → token sequences, image folder → preprocessed pixels, or data
// the caller prepared itself), loads the model again with a new head when a ViT task has another class
// count, resolves the LoRA targets and builds the engine. The result is a typed Run: an LM run holds a
// GPT-2 engine and token data, an image run a ViT engine and pixel data, so nothing needs a cast.
// `trainRun` drives it and emits the trainer's events; the callers only map those to their outputs.
import type { GpuContext } from '../gpu/context';
import { type TextFormat, listImageFolder } from '../io/datasets';
import { type LoadedGpt2, type LoadedLlama, type LoadedModel, type LoadedVit, loadModelDir, type ModelDirSource } from '../io/hfModel';
import type { PixelImage } from '../io/preprocess';
import type { ChatTemplate } from '../io/chat';
import type { TextTokenizer } from '../io/tokenizer';
import { llamaContext } from '../model/families/llama';
import type { Gpt2LoraModel } from '../model/gpt2/model';
import type { LlamaLoraModel } from '../model/llama/model';
import type { VitLoraModel } from '../model/vit/model';
import type { FrozenWeights } from '../model/frozen';
import { type TrainingConfig, resolveConfig } from './config';
import type { ImageExample, LmExample, TaskData } from './data';
import { createEngine, engineOptions } from './engine';
import { type EvalResult, evaluate } from './evaluate';
import { type LinearModule, targetedModules } from './modules';
import { type ImagePreview, type TextPreview, prepareImages, prepareText } from './prepare';
import { type TrainResult, type TrainSetup, train } from './trainer';

/** The data of a run, as the caller has it. */
export type RunInput =
  /**
   * A text dataset file and the model's tokenizer; `format` overrides the guess from the name. A chat .jsonl
   * is rendered with `chatTemplate` (the model's or a supplied one; refused without one).
   */
  | { kind: 'text'; bytes: Uint8Array | ArrayBuffer; name: string; tokenizer: TextTokenizer; format?: TextFormat; chatTemplate?: ChatTemplate | null }
  /** An image folder (one subfolder per class) and a decoder for its files (ViT). */
  | { kind: 'images'; paths: string[]; decode: (path: string) => Promise<PixelImage> }
  /** Token sequences the caller prepared (the study's cut splits); T is their length. */
  | { kind: 'lm'; data: TaskData<LmExample, Uint32Array>; T: number }
  /** Preprocessed images the caller prepared; the loaded head must already have their class count. */
  | { kind: 'image'; data: TaskData<ImageExample, Float32Array> };

/** The config of a run: the user's partial settings (resolved here, with a preset), or one resolved before (a checkpoint's). */
export type RunConfig = { partial: Partial<TrainingConfig>; preset?: string } | { resolved: TrainingConfig };

interface RunParts<L extends LoadedModel, M, E, I> {
  /** The model the run trains (a ViT: loaded again when the task needed a new head). */
  loaded: L;
  engine: M;
  data: TaskData<E, I>;
  /** Resolved; a GPT-2 run's seqLen is the T it trains with (≤ n_positions). */
  config: TrainingConfig;
  targets: LinearModule[];
  /** One engine batch of validation (else training) examples: the exports' parity sample. */
  sample: I;
}

/** A language-model run: a GPT-2, or a Llama-family model (Llama, Mistral, Qwen2, Qwen3). */
export type LmRun = { kind: 'lm'; preview: TextPreview | null } & (
  | RunParts<LoadedGpt2, Gpt2LoraModel, LmExample, Uint32Array>
  | RunParts<LoadedLlama, LlamaLoraModel, LmExample, Uint32Array>
);
export type ImageRun = { kind: 'image'; preview: ImagePreview | null; classNames: string[] | null } & RunParts<LoadedVit, VitLoraModel, ImageExample, Float32Array>;
export type Run = LmRun | ImageRun;

export interface RunModel {
  loaded: LoadedModel;
  /** The model's folder, to load it again with a new head (ViT, another class count). */
  source: ModelDirSource;
  /** 'f32' widens a BF16/F16 checkpoint's frozen weights; default: kept packed where the method allows (docs/engineering.md#frozen-weights). */
  frozenWeights?: FrozenWeights;
  /** Told of a ViT loaded again with a new head, before its engine is built (the studio's upload bar follows its reads). */
  onReload?: (loaded: LoadedModel) => void;
}

/** The preset a run starts from when the caller names none: `<family>-default` (PRESETS in ./config). */
export const defaultPreset = (kind: LoadedModel['kind']) => `${kind}-default`;

function resolveRunConfig(kind: LoadedModel['kind'], c: RunConfig): TrainingConfig {
  return 'resolved' in c ? { ...c.resolved } : resolveConfig(c.partial, c.preset ?? defaultPreset(kind));
}

/** Loads and builds everything a run needs; the engine is the caller's to destroy (`run.engine.destroy()`). */
export async function prepareRun(ctx: GpuContext, model: RunModel, input: RunInput, runConfig: RunConfig): Promise<Run> {
  const config = resolveRunConfig(model.loaded.kind, runConfig);
  const sampleOf = <E, I>(data: TaskData<E, I>) => data.collate((data.val.length ? data.val : data.train).slice(0, config.batchSize), config.batchSize).input;
  const loaded0 = model.loaded;
  if (loaded0.kind === 'gpt2' || loaded0.kind === 'llama') {
    let data: TaskData<LmExample, Uint32Array>, preview: TextPreview | null = null;
    // The longest sequence the model computes: GPT-2's n_positions; a Llama's context (and sliding window).
    const maxT = loaded0.kind === 'gpt2' ? loaded0.config.n_positions : llamaContext(loaded0.config);
    if (input.kind === 'text') {
      config.seqLen = Math.min(config.seqLen, maxT);
      ({ data, preview } = prepareText(input.bytes, input.name, input.tokenizer, config.seqLen, config.valFraction, config.seed, input.format, input.chatTemplate));
    } else if (input.kind === 'lm') {
      config.seqLen = input.T;
      data = input.data;
    } else throw new Error(`a ${loaded0.kind === 'gpt2' ? 'GPT-2' : 'language model'} trains on text: give a .txt, .jsonl or .csv file`);
    const targets = targetedModules(loaded0, config.targetModules);
    const sample = sampleOf(data); // before the engine: nothing that can throw comes after it
    const options = engineOptions(config, targets, config.seqLen);
    // The caller's 'f32' (the CLI's --frozen-weights) widens; the config records it, so a checkpoint resumes the same way.
    if (model.frozenWeights === 'f32') { options.frozenWeights = 'f32'; config.frozenWeights = 'f32'; }
    if (loaded0.kind === 'llama') {
      return { kind: 'lm', loaded: loaded0, engine: await createEngine(ctx, loaded0, options), data, config, targets, sample, preview };
    }
    return { kind: 'lm', loaded: loaded0, engine: await createEngine(ctx, loaded0, options), data, config, targets, sample, preview };
  }
  if (input.kind !== 'images' && input.kind !== 'image') throw new Error('a ViT trains on images: give a folder with one subfolder per class');
  let loaded: LoadedVit = loaded0;
  let data: TaskData<ImageExample, Float32Array>, preview: ImagePreview | null = null, classNames: string[] | null = null;
  if (input.kind === 'images') {
    const classes = listImageFolder(input.paths).classes;
    const numClasses = config.numClasses ?? classes.length;
    if (numClasses !== loaded.head.numClasses) { loaded = await reloadVit(model.source, numClasses); model.onReload?.(loaded); }
    ({ data, preview } = await prepareImages(input.paths, input.decode, loaded.config, loaded.preprocessor, config.valFraction, config.seed));
    classNames = preview.classes;
  } else data = input.data;
  const targets = targetedModules(loaded, config.targetModules);
  const sample = sampleOf(data);
  const engine = await createEngine(ctx, loaded, engineOptions(config, targets, 0));
  return { kind: 'image', loaded, engine, data, config, targets, sample, preview, classNames };
}

async function reloadVit(source: ModelDirSource, numClasses: number): Promise<LoadedVit> {
  const loaded = await loadModelDir(source, { numClasses });
  if (loaded.kind !== 'vit') throw new Error(`the model folder changed while loading: it now holds a ${loaded.kind}, not a ViT`);
  return loaded;
}

/** What a caller adds to a run when it trains it: events, pause/stop, checkpoints, a resume point. */
export type TrainOptions = Pick<TrainSetup<unknown, unknown>, 'onEvent' | 'control' | 'checkpoints' | 'resumeFrom'>;

/** Trains a prepared run (src/train/trainer.ts); the engine then holds the final model. */
export function trainRun(run: Run, o: TrainOptions = {}): Promise<TrainResult> {
  const setup = { config: run.config, targets: run.targets, ...o };
  return run.kind === 'lm'
    ? train({ ...setup, model: run.engine, loaded: run.loaded, data: run.data })
    : train({ ...setup, model: run.engine, loaded: run.loaded, data: run.data });
}

/** Evaluates the run's engine as it is now on some of its validation or training examples (default: validation). */
export function evaluateRun(run: Run, B: number, which: 'val' | 'train' = 'val'): Promise<EvalResult> {
  return run.kind === 'lm'
    ? evaluate(run.engine, run.data, B, run.data[which])
    : evaluate(run.engine, run.data, B, run.data[which]);
}
