// The study's engine page (page.html), driven by run.ts in headless Chromium: one call of __studyRun per
// cell, with the app's own loaders, data preparation, engine, trainer and evaluation (nothing of the
// training is reimplemented here). The built-in demo files come from Vite's public/ folder (/demo/...),
// same origin; nothing else is fetched. Models and prepared data are cached across cells; each cell
// loads a fresh copy of the model and builds its own engine on one shared GPU device.
import { getDevice } from '../../gpu/device';
import type { GpuContext } from '../../gpu/context';
import { loadModelDir, sourceFromMap, type LoadedModel, type ModelDirSource } from '../../io/hfModel';
import { decodeImage } from '../../io/imageDecode';
import { imageTaskData, lmTaskData, type ImageExample, type LmExample, type TaskData as EngineData } from '../../train/data';
import { loadTokenizer } from '../../train/engine';
import type { IterationReport } from '../../train/cascade';
import { evaluate } from '../../train/evaluate';
import { defaultProcessor, prepareImages, prepareText } from '../../train/prepare';
import { type Run, type RunInput, evaluateRun, prepareRun, trainRun } from '../../train/run';
import type { TrainEvent } from '../../train/trainer';
import { CORRUPTIONS, corruptImage, type ImageShape } from './corrupt';
import type { Cell, CorruptionSpec, TaskData } from './grid';
import type { CellResult, Environment, EvalPoint } from './result';
import { loadFolderTokenizer } from '../../io/tokenizer';
import { llamaContext } from '../../model/families/llama';

export type StudyEvent =
  | { type: 'status'; message: string }
  | { type: 'eval'; cell: string; epoch: number; loss: number; accuracy?: number; ms: number }
  | { type: 'step'; cell: string; step: number; total: number; loss: number; ms: number };

const w = window as unknown as {
  __studyReady?: boolean;
  __studyEnv?: () => Promise<Environment>;
  __studyRun?: (cell: Cell, data: TaskData, corruption: CorruptionSpec) => Promise<{ ok: true; result: CellResult } | { ok: false; error: string }>;
  __studyEvent?: (e: StudyEvent) => void;
};
const STEP_EVERY = Number(new URLSearchParams(location.search).get('steps') ?? 8);
const emit = (e: StudyEvent) => { void w.__studyEvent?.(e); };

const MODEL_FILES: Record<string, string[]> = {
  'demo/gpt2-fortunes': ['config.json', 'model.safetensors', 'tokenizer.json'],
  'demo/vit-mnist': ['config.json', 'model.safetensors', 'preprocessor_config.json'],
};

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const res = await fetch(`/${path}`);
  if (!res.ok) throw new Error(`/${path}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

let ctxPromise: Promise<GpuContext> | undefined;
const device = () => (ctxPromise ??= getDevice({ label: 'lorasc-study' }));

const modelFiles = new Map<string, Promise<Map<string, ArrayBuffer>>>();
async function modelSource(dir: string): Promise<ModelDirSource> {
  const names = MODEL_FILES[dir];
  if (!names) throw new Error(`the study knows no model folder ${dir}`);
  let files = modelFiles.get(dir);
  if (!files) {
    files = (async () => new Map(await Promise.all(names.map(async (n) => [n, await fetchBytes(`${dir}/${n}`)] as const))))();
    modelFiles.set(dir, files);
  }
  return sourceFromMap(await files);
}

/** A fresh copy of the model per cell. */
const loadModel = async (dir: string): Promise<LoadedModel> => loadModelDir(await modelSource(dir));

type Prepared =
  | { kind: 'lm'; data: EngineData<LmExample, Uint32Array>; T: number; note: string }
  | { kind: 'image'; data: EngineData<ImageExample, Float32Array>; shape: ImageShape; note: string };

const prepared = new Map<string, Promise<Prepared>>();

/** The task's data, split with the study's fixed data seed and cut to the study's sizes (cached). */
function prepare(d: TaskData, loaded: LoadedModel): Promise<Prepared> {
  const key = JSON.stringify(d);
  let p = prepared.get(key);
  if (!p) {
    p = prepareUncached(d, loaded);
    prepared.set(key, p);
    p.catch(() => prepared.delete(key));
  }
  return p;
}

const cut = <T>(xs: T[], n: number) => (n > 0 ? xs.slice(0, n) : xs);

async function prepareUncached(d: TaskData, loaded: LoadedModel): Promise<Prepared> {
  if (loaded.kind === 'gpt2' || loaded.kind === 'llama') {
    const folder = sourceFromMap(await (modelFiles.get(d.model) as Promise<Map<string, ArrayBuffer>>));
    const tok = loaded.kind === 'gpt2' ? await loadTokenizer(folder) : await loadFolderTokenizer(folder);
    if (!tok) throw new Error(`${d.model} has no tokenizer`);
    const T = Math.min(d.seqLen, loaded.kind === 'gpt2' ? loaded.config.n_positions : llamaContext(loaded.config));
    const p = prepareText(await fetchBytes(d.data), d.data.split('/').pop() as string, tok, T, d.valFraction, d.dataSeed);
    const train = cut(p.data.train, d.trainExamples), val = cut(p.data.val, d.valExamples);
    return {
      kind: 'lm', T, data: lmTaskData(train, val, T),
      note: `${p.preview.sequences} sequences of ${T} tokens (${p.data.train.length} train / ${p.data.val.length} val); the study uses ${train.length} train / ${val.length} val`,
    };
  }
  const index = JSON.parse(new TextDecoder().decode(await fetchBytes(`${d.data}/index.json`))) as { files: string[] };
  const root = d.data.split('/').pop() as string;
  const bytes = new Map<string, ArrayBuffer>(await Promise.all(index.files.map(async (f) => [`${root}/${f}`, await fetchBytes(`${d.data}/${f}`)] as const)));
  const p = await prepareImages([...bytes.keys()], async (path) => decodeImage(bytes.get(path) as ArrayBuffer, path),
    loaded.config, loaded.preprocessor, d.valFraction, d.dataSeed);
  if (p.preview.rejected.length) throw new Error(`${p.preview.rejected.length} images rejected, first: ${p.preview.rejected[0].file}: ${p.preview.rejected[0].reason}`);
  const train = cut(p.data.train, d.trainExamples), val = cut(p.data.val, d.valExamples);
  const pre = loaded.preprocessor ?? defaultProcessor(loaded.config);
  const shape: ImageShape = {
    C: loaded.config.num_channels, H: loaded.config.image_size[0], W: loaded.config.image_size[1],
    mean: pre.do_normalize ? pre.image_mean : [0], std: pre.do_normalize ? pre.image_std : [1],
  };
  if (!pre.do_rescale || Math.abs(pre.rescale_factor - 1 / 255) > 1e-9) throw new Error('the corruptions assume pixels rescaled by 1/255');
  return {
    kind: 'image', shape, data: imageTaskData(train, val, shape.C * shape.H * shape.W),
    note: `${p.preview.classes.length} classes, ${p.data.train.length} train / ${p.data.val.length} val images; the study uses ${train.length} train / ${val.length} val`,
  };
}

w.__studyEnv = async () => {
  const ctx = await device();
  const i = ctx.adapterInfo;
  return {
    userAgent: navigator.userAgent,
    adapter: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description },
    backend: ctx.backend,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
};

w.__studyRun = async (cell, d, corruption) => {
  try {
    return { ok: true, result: await runCell(cell, d, corruption) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
};

/** The pretrained model as it is: a zero adapter (B = 0 is an exact no-op), evaluated like a trained one. */
async function baseline(run: Run, curve: EvalPoint[]) {
  run.engine.initLora(1);
  const r = await evaluateRun(run, run.config.batchSize);
  curve.push({ epoch: 0, step: 0, loss: r.loss, ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}) });
  return { steps: 0, finalVal: r, bestVal: r, finalTrainLoss: NaN, iterations: [] as IterationReport[] };
}

async function runCell(cell: Cell, d: TaskData, corruption: CorruptionSpec): Promise<CellResult> {
  const t0 = performance.now();
  const ctx = await device();
  const loaded = await loadModel(d.model);
  const p = await prepare(d, loaded);
  emit({ type: 'status', message: `${cell.id}: ${p.note}` });
  const input: RunInput = p.kind === 'lm' ? { kind: 'lm', data: p.data, T: p.T } : { kind: 'image', data: p.data };
  const run = await prepareRun(ctx, { loaded, source: await modelSource(d.model) }, input, { partial: cell.config });
  const { config, data } = run;
  try {
    let total = 0, nonFinite = 0, rollbacks = 0;
    const curve: EvalPoint[] = [];
    const onEvent = (e: TrainEvent) => {
      if (e.type === 'start') total = e.totalSteps;
      if (e.type === 'step' && (e.step % STEP_EVERY === 0 || e.step === total)) emit({ type: 'step', cell: cell.id, step: e.step, total, loss: e.loss, ms: performance.now() - t0 });
      if (e.type === 'eval') {
        curve.push({ epoch: e.epoch, step: e.step, loss: e.valLoss, ...(e.valAccuracy !== undefined ? { accuracy: e.valAccuracy } : {}) });
        emit({ type: 'eval', cell: cell.id, epoch: e.epoch, loss: e.valLoss, ...(e.valAccuracy !== undefined ? { accuracy: e.valAccuracy } : {}), ms: performance.now() - t0 });
      }
      if (e.type === 'bad-step') nonFinite++;
      if (e.type === 'rollback') rollbacks++;
    };
    const result = cell.group === 'base' ? await baseline(run, curve) : await trainRun(run, { onEvent });
    if (!result.finalVal || !result.bestVal) throw new Error('the run made no validation');
    // After train() the engine holds the final model: a single adapter on W0, or the merged cascade
    // backbone (clean weights W0 + D, a zero expert) — the model the report is about.
    const tTrain = performance.now() - t0;
    const trainEval = d.trainEval ? await evaluateRun(run, run.kind === 'lm' ? config.batchSize : d.evalBatch, 'train') : null;
    const last = result.iterations[result.iterations.length - 1];
    const ranks = last?.layers.map((l) => l.spectrum).filter((s) => s !== null) ?? [];
    const effectiveRank = ranks.length && ranks.length === last.layers.length ? {
      mean: ranks.reduce((a, s) => a + s.effectiveRank, 0) / ranks.length,
      min: Math.min(...ranks.map((s) => s.effectiveRank)),
      max: Math.max(...ranks.map((s) => s.effectiveRank)),
      entropyMean: ranks.reduce((a, s) => a + s.entropyRank, 0) / ranks.length,
      layers: ranks.length,
    } : null;
    let robustness: CellResult['robustness'];
    if (run.kind === 'image' && p.kind === 'image') {
      robustness = { clean: { accuracy: result.finalVal.accuracy as number, loss: result.finalVal.loss } };
      for (const name of CORRUPTIONS) {
        const val = run.data.val.map((ex, i) => ({ pixels: corruptImage(ex.pixels, p.shape, name, corruption, i), label: ex.label }));
        const r = await evaluate(run.engine, run.data, d.evalBatch, val);
        robustness[name] = { accuracy: r.accuracy as number, loss: r.loss };
      }
    }
    emit({ type: 'status', message: `${cell.id}: trained in ${(tTrain / 1000).toFixed(1)} s (${result.steps} steps); final evaluations ${((performance.now() - t0 - tTrain) / 1000).toFixed(1)} s` });
    const pick = (r: { loss: number; accuracy?: number }) => ({ loss: r.loss, ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}) });
    return {
      format: 1, cell, data: d, ...(p.kind === 'image' ? { corruption } : {}),
      config: { ...config },
      trainExamples: data.train.length, valExamples: data.val.length,
      steps: result.steps, iterations: result.iterations.length, curve,
      finalVal: pick(result.finalVal), bestVal: pick(result.bestVal), trainEval: trainEval ? pick(trainEval) : null,
      gap: trainEval ? result.finalVal.loss - trainEval.loss : null, finalTrainLoss: Number.isFinite(result.finalTrainLoss) ? result.finalTrainLoss : null,
      effectiveRank, ...(robustness ? { robustness } : {}),
      nonFiniteSteps: nonFinite, rollbacks,
      wallMs: performance.now() - t0, env: await w.__studyEnv!(), finishedAt: new Date().toISOString(),
    };
  } finally {
    run.engine.destroy();
  }
}

w.__studyReady = true;
