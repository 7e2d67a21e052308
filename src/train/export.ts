// Exports of a finished run (docs/formats.md#exports), the same in the studio and the CLI: the merged model as an
// HF folder with the loaded names, the PEFT adapter folder where the method has one (single adapters,
// and COLA/LoRASC cascades as one exact rank-T·r LoRA against the original base), and the parity figure
// max |logits(merged) − logits(base + adapter)| computed on the GPU before anything is written.
import type { GpuContext } from '../gpu/context';
import type { LoadedModel, ModelDirSource } from '../io/hfModel';
import { buildMergedModelFiles, parityFigure, type NewHead, type ParityFigure } from '../io/export';
import { buildAdapterFiles } from '../io/peft';
import { isStreamed } from '../io/safetensors';
import type { TrainingConfig } from './config';
import { type AnyEngine, createEngine, createPlainEngine, type EngineOptions, forwardLogits } from './engine';
import { type LinearModule, linearModules } from './modules';
import type { TrainResult } from './trainer';

export interface ExportBundle {
  /** The merged folder's files; empty when `streamMerged` asked for the weights alone (mergedWeights). */
  merged: Map<string, Uint8Array>;
  /** Canonical name → merged F32 weight (the tensors the run changed; ViT: the trained head too). */
  mergedWeights: Map<string, Float32Array>;
  adapter: Map<string, Uint8Array> | null;
  /** Why there is no adapter folder, when there is none. */
  adapterNote: string | null;
  parity: ParityFigure | null;
}

export interface ExportInput {
  ctx: GpuContext;
  loaded: LoadedModel;
  /** config.json, tokenizer / preprocessor files… copied into the merged folder. */
  companions: ReadonlyMap<string, Uint8Array | string>;
  result: TrainResult;
  config: TrainingConfig;
  baseName: string;
  /** ViT: the task's class names (a new head exports its id2label from them). */
  classNames?: string[];
  /** One engine batch to compare logits on (GPT-2: B×T ids with config.batchSize × config.seqLen). */
  sample: Uint32Array | Float32Array;
}

const CLASSIFIER = ['classifier.weight', 'classifier.bias'];

/** The files of a model folder that go, unchanged, into the merged folder beside the weights (docs/formats.md#export-merged). */
const COMPANIONS = ['config.json', 'tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'preprocessor_config.json', 'generation_config.json'];

export async function readCompanions(source: ModelDirSource): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const n of COMPANIONS) if (source.names.includes(n)) out.set(n, new Uint8Array(await source.read(n)));
  return out;
}

/**
 * A streamed load leaves passthrough tensors (GPT-2 attn.bias buffers, a tied head's stored copy) and a
 * decoder's canonical tensors on disk; the in-memory export writes them all from memory, so they are read
 * here first (the streamed export, writeMergedModelStreamed, reads them one at a time instead).
 */
export async function fetchPassthrough(loaded: LoadedModel): Promise<void> {
  for (const t of [...loaded.passthrough.values(), ...loaded.tensors.values()]) if (isStreamed(t)) await t.fetch();
}

/**
 * `streamMerged`: leave the merged folder to writeMergedModelStreamed (the CLI writes it tensor by tensor
 * to disk); only the adapter files, the merged weights and the parity figure are built here. A ViT given
 * a new head is always built in memory (those models are small; the streamed writer does not rename).
 */
export async function buildExports(x: ExportInput, options: { streamMerged?: boolean } = {}): Promise<ExportBundle> {
  const stream = !!options.streamMerged && !(x.loaded.kind === 'vit' && x.loaded.head.newHead);
  if (!stream) await fetchPassthrough(x.loaded);
  const files = buildExportFiles(x, !stream);
  if (!files.adapter) return { ...files, parity: null };
  const parity = await computeParity(x, files.mergedWeights);
  return { merged: files.merged, mergedWeights: files.mergedWeights, adapter: files.adapter, adapterNote: null, parity };
}

/** What buildExportFiles needs: no GPU (the parity figure is computed apart). */
export type ExportFilesInput = Pick<ExportInput, 'loaded' | 'companions' | 'baseName' | 'classNames'> & {
  result: Pick<TrainResult, 'merged' | 'adapter' | 'adapterNote' | 'head' | 'iterations'>;
  config: TrainingConfig;
};

/**
 * The merged folder and the adapter folder of a finished run, on the CPU: merged weights by canonical
 * name, under the loaded names (GPT-2 `transformer.`, ViT `vit.`, Llama-family `model.` or none), and the
 * PEFT adapter (a cascade's is already the rank-T·r stack, src/train/cascade.ts stackedAdapter).
 */
export function buildExportFiles(x: ExportFilesInput, withMergedFiles = true): { merged: Map<string, Uint8Array>; adapter: Map<string, Uint8Array> | null; adapterNote: string | null; mergedWeights: Map<string, Float32Array> } {
  const { loaded, result, config } = x;
  const modules = new Map(linearModules(loaded).map((m) => [m.path, m]));
  const merged = new Map<string, Float32Array>();
  for (const [path, w] of result.merged) merged.set((modules.get(path) as LinearModule).weight, w);
  let newHead: NewHead | undefined;
  if (loaded.kind === 'vit') {
    const [w, b] = CLASSIFIER.map((k) => result.head.get(k));
    if (!w || !b) throw new Error('export: the trained classifier is missing');
    if (loaded.head.newHead) {
      const names = x.classNames ?? Array.from({ length: b.length }, (_, i) => `LABEL_${i}`);
      newHead = { weight: w, bias: b, id2label: Object.fromEntries(names.map((n, i) => [String(i), n])) };
    } else {
      merged.set('classifier.weight', w);
      merged.set('classifier.bias', b);
    }
  }
  const mergedFiles = withMergedFiles ? buildMergedModelFiles({ model: loaded, merged, newHead, companions: x.companions }) : new Map<string, Uint8Array>();

  if (!result.adapter) return { merged: mergedFiles, adapter: null, adapterNote: result.adapterNote, mergedWeights: merged };
  const a = result.adapter;
  const tensors = new Map(a.tensors);
  if (loaded.kind === 'vit') {
    for (const k of CLASSIFIER) {
      const v = result.head.get(k) as Float32Array;
      tensors.set(`base_model.model.${k}`, { data: v, shape: k.endsWith('weight') ? [v.length / loaded.config.hidden_size, loaded.config.hidden_size] : [v.length] });
    }
  }
  const adapterFiles = buildAdapterFiles({
    config: {
      modelKind: loaded.kind, baseModelNameOrPath: x.baseName, r: a.r, loraAlpha: a.loraAlpha, loraDropout: config.loraDropout,
      targetModules: config.targetModules, useRslora: a.useRslora, useDora: a.useDora,
      modulesToSave: loaded.kind === 'vit' ? ['classifier'] : null,
    },
    tensors,
    trainingArgs: { ...config, exported_rank: a.r, cascade_iterations: result.iterations.length },
  });
  return { merged: mergedFiles, adapter: adapterFiles, adapterNote: null, mergedWeights: merged };
}

/** Logits of (original base + adapter) and of (merged weights, no adapter) on the same sample. */
async function computeParity(x: ExportInput, merged: ReadonlyMap<string, Float32Array>): Promise<ParityFigure> {
  const { loaded, result, config } = x;
  const a = result.adapter as NonNullable<TrainResult['adapter']>;
  const paths = new Set([...a.tensors.keys()].filter((k) => k.endsWith('lora_A.weight')).map((k) => k.slice('base_model.model.'.length, -'.lora_A.weight'.length)));
  return mergedParity({
    ctx: x.ctx, loaded, merged, sample: x.sample, B: config.batchSize, T: config.seqLen,
    adapter: { targets: linearModules(loaded).filter((m) => paths.has(m.path)), r: a.r, scale: a.scale, useDora: a.useDora },
    adapterValues: new Map([...a.tensors].map(([k, v]) => [k, v.data])),
    head: new Map([...result.head].filter(([k]) => CLASSIFIER.includes(k))),
  });
}

export interface MergedParityInput {
  ctx: GpuContext;
  /** The original base. */
  loaded: LoadedModel;
  /** Canonical weight name → merged weight. */
  merged: ReadonlyMap<string, Float32Array>;
  /** The adapter's engine shape (targets, rank, scale, DoRA) and its tensors by PEFT key. */
  adapter: Pick<EngineOptions, 'targets' | 'r' | 'scale' | 'useDora'>;
  adapterValues: ReadonlyMap<string, Float32Array>;
  /** A trained ViT head (classifier.weight / .bias), set on both sides. */
  head: ReadonlyMap<string, Float32Array>;
  sample: Uint32Array | Float32Array;
  B: number;
  T: number;
}

/**
 * The parity figure (docs/formats.md#parity): one engine on the original base with the adapter, one holding the
 * merged weights with a no-op adapter (B = 0), the same sample through both.
 */
export async function mergedParity(o: MergedParityInput): Promise<ParityFigure> {
  const shape = { B: o.B, T: o.T };
  const withAdapter = await logitsOf(o, () => createEngine(o.ctx, o.loaded, { ...shape, seed: 0, ...o.adapter }), (e) => e.setLoraWeights(new Map([...o.adapterValues, ...o.head])));
  const byPath = new Map(linearModules(o.loaded).flatMap((m) => { const w = o.merged.get(m.weight); return w ? [[m.path, w] as const] : []; }));
  const merged = await logitsOf(o, () => createPlainEngine(o.ctx, o.loaded, shape, byPath, o.head), () => undefined);
  return parityFigure(merged, withAdapter);
}

/** The sample's logits through an engine built for it; the sample's type must be the family's input. */
async function logitsOf(o: MergedParityInput, make: () => Promise<AnyEngine>, set: (e: AnyEngine) => void): Promise<Float32Array> {
  const e = await make();
  try {
    set(e);
    return await forwardLogits(e, o.sample);
  } finally {
    e.destroy();
  }
}
