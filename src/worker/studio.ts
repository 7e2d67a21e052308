// The studio's engine side, owned by the training worker: the loaded model and data, a queue of runs
// (one at a time on the GPU), pause/resume/stop, checkpoints in OPFS and resume from them (after a
// reload, a device loss or a stop), exports, and the base-vs-tuned playground. It never touches the
// DOM; it talks only through `emit` (events) and the values it returns (replies).
import type { GpuContext } from '../gpu/context';
import { getDevice } from '../gpu/device';
import { type LoadedModel, loadModelDir, type ModelDirSource } from '../io/hfModel';
import { listImageFolder } from '../io/datasets';
import type { PixelImage } from '../io/preprocess';
import { type ChatMessage, type ChatSetup, ChatTemplateError, loadChatSetup, noTemplateForChat } from '../io/chat';
import { loadFolderTokenizer, type TextTokenizer } from '../io/tokenizer';
import { decodeImage } from '../io/imageDecode';
import { defaultTargets } from '../io/peft';
import { preprocessImage } from '../io/preprocess';
import { generate } from '../model/gpt2/generate';
import { llamaContext } from '../model/families/llama';
import { generateLlama } from '../model/llama/generate';
import { topKPredictions } from '../model/vit/classify';
import { OpfsStore, opfsAvailable, removeOpfsRun } from '../io/opfs';
import { type TrainState, loadLatestCheckpoint } from '../train/checkpoint';
import { PRESETS, type TrainingConfig, checkResolvedConfig, frozenWeightsOf, resolveConfig } from '../train/config';
import { createPlainEngine } from '../train/engine';
import { buildExports, type ExportBundle, readCompanions } from '../train/export';
import { linearModules, targetedModules } from '../train/modules';
import { defaultProcessor, prepareText } from '../train/prepare';
import { type RunInput, prepareRun, trainRun } from '../train/run';
import type { TrainResult, TrainControl } from '../train/trainer';
import { estimateMemory } from './memory';
import { classifyAdapter } from './deviceClass';
import { runSize, type StepTiming } from './runSize';
import { timeOneStep } from './stepTiming';
import { splitTrainVal } from '../io/datasets';
import { deviceLossMessage, runFailureMessage } from './failure';
import { zipFiles } from './zip';
import { checkZipSize, directorySink, zipSink } from './exportSinks';
import { adapterCheckModules, assertMergeCheck, checkMergedRows, type ExportDtype, mergeCheckUlps, RoundingTally, writeMergedModelStreamed } from '../io/export';
import { tensorFloat32 } from '../io/safetensors';
import { type DataSource, type DataPreview, type ExportReply, type ExportTarget, type LoadProgressView, METRICS_FLUSH_MS, type ModelInfo, type ModelSource, type ReplyValue, type RunProfile, type RunState, type StepPoint, type EvalPoint, type StudioEvent, type UnfinishedRun } from './protocol';
import { backfillOf, dataLabel, readMeta, unfinishedRuns, writeMeta } from './runs';
import { dataSource, type LoadedData, modelSource } from './sources';
import { headersProgress, hubLoadProgress, onDiskTensors, tensorLoadProgress, UploadProgress } from './loadProgress';

/** The decoder of an image folder the user dropped: its files by path, decoded on demand. */
function imageDecoder(files: { path: string; bytes: ArrayBuffer }[]): (path: string) => Promise<PixelImage> {
  const byPath = new Map(files.map((f) => [f.path, f.bytes]));
  return async (path) => {
    const bytes = byPath.get(path);
    if (!bytes) throw new Error(`${path}: not among the dropped files`);
    return decodeImage(bytes, path);
  };
}

interface ModelSlot {
  source: ModelDirSource;
  loaded: LoadedModel;
  tokenizer: TextTokenizer | null;
  /** The chat template and stop ids (language models); template null when the model has none. */
  chat: ChatSetup | null;
  info: ModelInfo;
  /** The load bar while an engine build reads the weights from disk and uploads them (./loadProgress.ts). */
  upload: UploadProgress;
}

/** The longest sequence a language model computes (GPT-2 n_positions; a Llama's context and sliding window); ViT: none. */
function contextOf(loaded: LoadedModel): number | undefined {
  return loaded.kind === 'gpt2' ? loaded.config.n_positions : loaded.kind === 'llama' ? llamaContext(loaded.config) : undefined;
}

interface RunRecord {
  id: string;
  state: RunState;
  paused: boolean;
  stop: boolean;
  resume?: () => void;
  loaded?: LoadedModel;
  config?: TrainingConfig;
  result?: TrainResult;
  classNames?: string[];
  sample?: Uint32Array | Float32Array;
  bundle?: ExportBundle;
  /** The run's checkpoints (OPFS), and the step of the newest committed one. */
  store?: OpfsStore;
  checkpointStep?: number;
  /** Resumed after a reload: the UI has no curves, so the checkpoint's history is sent first. */
  backfill?: boolean;
}



export class Studio {
  private ctx: GpuContext | undefined;
  private model: ModelSlot | undefined;
  private data: LoadedData | undefined;
  private readonly runs = new Map<string, RunRecord>();
  private queue: Promise<void> = Promise.resolve();
  private pending = new Map<string, { steps: StepPoint[]; evals: EvalPoint[] }>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly base: string, private readonly emit: (e: StudioEvent) => void) {}

  /** The last device loss seen (a run that fails on it says why). */
  private lastLoss: { reason: string; message: string } | undefined;

  /** Unsubscribes the studio from its device's events (before it destroys that device itself). */
  private stopWatching: (() => void) | undefined;

  private async device(): Promise<GpuContext> {
    if (!this.ctx) {
      const ctx = await getDevice({ label: 'studio' });
      this.stopWatching = ctx.events.on((e) => {
        if (e.type === 'device-lost') {
          this.ctx = undefined;
          this.lastLoss = { reason: e.reason, message: e.message };
          this.emit({ kind: 'device-lost', message: `${e.message || 'the GPU device was lost'} (${e.reason})` });
        } else this.emit({ kind: 'warning', runId: null, message: `GPU ${e.kind} error: ${e.message}` });
      });
      this.ctx = ctx;
    }
    return this.ctx;
  }

  async resetDevice(): Promise<ReplyValue['reset-device']> {
    // Our own destroy is not a loss: stop listening first, or its 'destroyed' would read as one.
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.ctx?.device.destroy();
    this.ctx = undefined;
    const ctx = await this.device();
    return { adapter: `${ctx.adapterInfo.vendor} ${ctx.adapterInfo.architecture} ${ctx.adapterInfo.description}`.trim() };
  }

  /** Test hook and fault injection: lose the device as a driver reset would. */
  loseDevice(): void {
    this.ctx?.device.destroy();
  }

  /** The Hub download in progress, if any (cancel-load aborts it). */
  private loading: AbortController | undefined;

  cancelLoad(): ReplyValue['cancel-load'] {
    const l = this.loading;
    l?.abort();
    return { cancelled: !!l };
  }

  async loadModel(s: ModelSource): Promise<ModelInfo> {
    const loading = new AbortController();
    this.loading = loading;
    let opened: Awaited<ReturnType<typeof modelSource>>;
    const hubBar = hubLoadProgress((progress) => this.emit({ kind: 'load-progress', progress }));
    try {
      opened = await modelSource(s, this.base, {
        signal: loading.signal,
        onHubProgress: (progress) => { this.emit({ kind: 'hub-progress', progress }); hubBar(progress); },
      });
    } finally {
      if (this.loading === loading) this.loading = undefined;
    }
    const { source, label } = opened;
    // A folder (File.slice) and a Hub download (Blob slices of its Cache Storage copy, src/io/hub/blobs.ts) load
    // streamed: only the headers are read now, and every engine build (a run's start, generation, the parity
    // check, the step-timing probe) reads each tensor once, uploads it and drops it (src/model/frozen.ts), so
    // the worker never holds the model (issue 13 item 1). The bar shows those uploads (UploadProgress); a ViT's
    // too. Only the built-in demos, which are in memory already, are read at load.
    const t0 = performance.now();
    const barEvent = (progress: LoadProgressView) => this.emit({ kind: 'load-progress', progress });
    const loaded = await loadModelDir(source, { onProgress: tensorLoadProgress(barEvent) });
    const onDisk = onDiskTensors(loaded);
    if (onDisk.length) barEvent(headersProgress(onDisk, performance.now() - t0));
    const tokenizer = loaded.kind !== 'vit' ? await loadFolderTokenizer(source) : null;
    // a template that does not parse turns chat off with a warning; the model itself still loads
    let chat: ChatSetup | null = null, chatWarning: string | null = null;
    try {
      chat = tokenizer ? await loadChatSetup(source, tokenizer) : null;
    } catch (e) {
      if (!(e instanceof ChatTemplateError)) throw e;
      chatWarning = `${e.message} (chat data and chat mode are off)`;
    }
    if (loaded.kind !== 'vit' && !tokenizer) throw new Error(`${label}: no tokenizer.json (or vocab.json + merges.txt) next to the ${loaded.kind === 'gpt2' ? 'GPT-2' : 'Llama-family'} weights`);
    const mods = linearModules(loaded);
    // Module names after the layer index: transformer.h.{i}. / model.layers.{i}. (3 parts), vit.encoder.layer.{i}. (4).
    const skip = loaded.kind === 'vit' ? 4 : 3;
    const context = contextOf(loaded);
    const info: ModelInfo = {
      kind: loaded.kind, label,
      layers: loaded.kind === 'gpt2' ? loaded.config.n_layer : loaded.config.num_hidden_layers,
      moduleNames: [...new Set(mods.map((m) => m.path.split('.').slice(skip).join('.')))],
      defaultTargets: defaultTargets(loaded.kind) ?? ['query', 'value'], // PEFT's per family; ViT: PEFT's documented pair
      parameters: loaded.memory.parameters,
      weightDtypes: [...new Set([...loaded.tensors.values()].map((t) => t.dtype ?? 'F32'))].sort(),
      ...(loaded.kind === 'vit' ? { classes: loaded.config.id2label } : { nPositions: context }),
      warnings: [...(opened.warnings ?? []), ...loaded.warnings, ...(chatWarning ? [chatWarning] : [])],
      ...(chat?.template ? { chatTemplate: chat.template.spec.source } : {}),
      ...(opened.hub ? { hub: opened.hub } : {}),
    };
    this.model = { source, loaded, tokenizer, chat, info, upload: new UploadProgress(onDisk, barEvent) };
    this.data = undefined;
    return info;
  }

  private needModel(): ModelSlot {
    if (!this.model) throw new Error('load a model first');
    return this.model;
  }

  async loadData(s: DataSource, seqLen: number): Promise<DataPreview> {
    const m = this.needModel();
    const data = await dataSource(s, m.loaded.kind, this.base);
    if (m.loaded.kind !== 'vit') {
      if (data.kind !== 'text') throw new Error(`a ${m.loaded.kind === 'gpt2' ? 'GPT-2' : 'language model'} trains on text: drop a .txt, .jsonl or .csv file`);
      const T = Math.min(seqLen, contextOf(m.loaded) ?? seqLen);
      const { data: task, preview } = prepareText(data.bytes, data.name, m.tokenizer as TextTokenizer, T, 0.1, 0, undefined, m.chat?.template);
      this.data = data;
      if (preview.chat) {
        const c = preview.chat;
        return {
          kind: 'text', label: data.name,
          lines: [`chat: ${preview.examples} conversations rendered with the model's template (${c.template}), ${preview.tokens} tokens`,
            `${preview.trainedTokens} trained tokens: the assistant replies and their end-of-turn tokens`,
            `${preview.sequences} sequences of ${T} tokens, one conversation each (${task.train.length} train / ${task.val.length} validation at a 10 % split)`,
            ...(c.truncatedLines.length ? [`${c.truncatedLines.length} conversations cut to ${T + 1} tokens (lines ${c.truncatedLines.slice(0, 10).join(', ')}${c.truncatedLines.length > 10 ? ', …' : ''})`] : [])],
          samples: preview.sample,
          chat: c.samples,
          rejected: preview.rejected.map((r) => ({ where: `${r.file}, line ${r.line}`, reason: r.reason })),
        };
      }
      return {
        kind: 'text', label: data.name,
        lines: [`${preview.format}: ${preview.examples} examples, ${preview.tokens} tokens`, `${preview.sequences} sequences of ${T} tokens (${task.train.length} train / ${task.val.length} validation at a 10 % split)`,
          ...(preview.truncated ? [`${preview.truncated} examples truncated to ${T + 1} tokens`] : [])],
        samples: preview.sample,
        rejected: preview.rejected.map((r) => ({ where: `${r.file}, line ${r.line}`, reason: r.reason })),
      };
    }
    if (data.kind !== 'images') throw new Error('a ViT trains on images: drop a folder with one subfolder per class');
    const folder = listImageFolder(data.files.map((f) => f.path));
    this.data = data;
    return {
      kind: 'images', label: data.label,
      lines: [`${folder.classes.length} classes, ${folder.items.length} images`, ...(folder.emptyClasses.length ? [`empty classes: ${folder.emptyClasses.join(', ')}`] : [])],
      samples: folder.classes.map((c, k) => `${c}: ${folder.items.filter((i) => i.label === k).length}`),
      rejected: folder.rejected.map((r) => ({ where: r.file, reason: r.reason })),
    };
  }

  /** The fields the user left unset come from the demo preset of the chosen run size (quick: the CPU one). */
  private resolve(partial: Partial<TrainingConfig>, profile: RunProfile): TrainingConfig {
    const kind = this.needModel().loaded.kind;
    const demo = `${kind}-demo${profile === 'quick' ? '-cpu' : ''}`;
    // A family without demo presets (the Llama families until theirs land) starts from its default preset.
    return resolveConfig(partial, demo in PRESETS ? demo : `${kind}-default`);
  }

  /** The adapter this worker trains on, and whether it is a CPU implementation (the page picks the run size from it). */
  async deviceInfo(): Promise<ReplyValue['device']> {
    const ctx = await this.device();
    return { adapter: ctx.describe(), ...classifyAdapter(ctx.adapterInfo) };
  }

  /** Train/validation sizes of the loaded data under a config (text: tokenized once per sequence length). */
  private splitSizes = new Map<string, { train: number; val: number }>();
  private splitOf(c: TrainingConfig): { train: number; val: number } {
    const m = this.needModel(), data = this.data;
    if (!data) throw new Error('load data first');
    const key = `${dataLabel(data)}|${c.seqLen}|${c.valFraction}`;
    let sizes = this.splitSizes.get(key);
    if (!sizes) {
      if (data.kind === 'text' && m.tokenizer) {
        const t = prepareText(data.bytes, data.name, m.tokenizer, Math.min(c.seqLen, contextOf(m.loaded) ?? c.seqLen), c.valFraction, c.seed, undefined, m.chat?.template).data;
        sizes = { train: t.train.length, val: t.val.length };
      } else {
        const n = data.kind === 'images' ? listImageFolder(data.files.map((f) => f.path)).items.length : 0;
        const sp = splitTrainVal(Array.from({ length: n }, (_, i) => i), c.valFraction, c.seed);
        sizes = { train: sp.train.length, val: sp.val.length };
      }
      this.splitSizes.set(key, sizes);
    }
    return sizes;
  }

  async estimate(partial: Partial<TrainingConfig>, profile: RunProfile): Promise<ReplyValue['estimate']> {
    const c = this.resolve(partial, profile);
    const ctx = await this.device();
    const loaded = this.needModel().loaded;
    return { ...estimateMemory(loaded, c, ctx.limits), size: runSize(c, this.splitOf(c), loaded.kind !== 'vit') };
  }

  /** The measured speed of this device for a run's shape (./stepTiming.ts); cached per shape, refused while a run trains. */
  private timings = new Map<string, StepTiming>();
  async timeStep(partial: Partial<TrainingConfig>, profile: RunProfile, signal?: AbortSignal): Promise<ReplyValue['time-step']> {
    const c = this.resolve(partial, profile);
    const m = this.needModel();
    const loaded = m.loaded;
    const T = Math.min(c.seqLen, contextOf(loaded) ?? c.seqLen);
    const targets = targetedModules(loaded, c.targetModules);
    const key = JSON.stringify([m.info.label, c.batchSize, T, c.gradAccum, c.r, c.useDora, c.loraDropout > 0, frozenWeightsOf(c), targets.map((t) => t.path)]);
    const known = this.timings.get(key);
    if (known) return { key, ...known };
    if ([...this.runs.values()].some((r) => r.state === 'running' || r.state === 'paused' || r.state === 'queued')) throw new Error('a run is training: the step is timed when it ends; the runs table shows its pace');
    // `signal`: the worker ends a timing that a user's request supersedes (./requests.ts).
    try {
      signal?.throwIfAborted();
      const ctx = await this.device();
      const timing = await m.upload.during('timing a step', () => timeOneStep(ctx, loaded, c, targets, T, signal));
      this.timings.set(key, timing);
      return { key, ...timing };
    } catch (e) {
      if (signal?.aborted) throw new Error(`not timed: ${String(signal.reason)}`);
      throw e;
    }
  }

  /** A started run's request waits in the worker's order (./requests.ts): its row says for what. */
  waiting(runId: string, message: string): void {
    this.emit({ kind: 'run-state', runId, state: 'queued', message });
  }

  start(runId: string, partial: Partial<TrainingConfig>, profile: RunProfile = 'full'): { queued: number } {
    const config = this.resolve(partial, profile); // refuse bad settings now, not when the run's turn comes
    if (this.runs.has(runId)) throw new Error(`run ${runId} exists`);
    // A run the memory plan says cannot fit is refused with what to change (the estimate shows the same line).
    const fit = this.ctx && this.model ? estimateMemory(this.model.loaded, config, this.ctx.limits) : undefined;
    if (fit && !fit.fits) throw new Error(fit.why);
    if (!this.data) throw new Error('load data first');
    const run: RunRecord = { id: runId, state: 'queued', paused: false, stop: false, config, ...(opfsAvailable() ? { store: new OpfsStore(runId) } : {}) };
    this.runs.set(runId, run);
    this.emit({ kind: 'run-state', runId, state: 'queued' });
    const queued = [...this.runs.values()].filter((r) => r.state === 'queued').length;
    this.queue = this.queue.then(() => this.runOne(run)).catch(() => undefined);
    return { queued };
  }

  control(runId: string, action: 'pause' | 'resume' | 'stop'): { state: RunState } {
    const run = this.runs.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (action === 'stop') { run.stop = true; run.paused = false; run.resume?.(); }
    // A pause is asked for here; the run shows 'paused' only once the loop holds (waitIfPaused below),
    // after the step in flight has ended and its metrics are out, so no step lands under 'paused'.
    if (action === 'pause' && run.state === 'running') run.paused = true;
    if (action === 'resume' && run.paused) { run.paused = false; run.resume?.(); this.setState(run, 'running'); }
    return { state: run.state };
  }

  private setState(run: RunRecord, state: RunState, extra: Partial<Extract<StudioEvent, { kind: 'run-state' }>> = {}): void {
    run.state = state;
    this.emit({ kind: 'run-state', runId: run.id, state, ...extra });
  }

  private push(runId: string, steps: StepPoint[], evals: EvalPoint[]): void {
    const p = this.pending.get(runId) ?? { steps: [], evals: [] };
    p.steps.push(...steps);
    p.evals.push(...evals);
    this.pending.set(runId, p);
    this.flushTimer ??= setTimeout(() => this.flush(), METRICS_FLUSH_MS);
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const [runId, p] of this.pending) this.emit({ kind: 'metrics', runId, steps: p.steps, evals: p.evals });
    this.pending.clear();
  }

  /** Continues a run from its newest verified checkpoint in OPFS; the loaded model and data must be the run's. */
  async resume(runId: string): Promise<ReplyValue['resume']> {
    if (!opfsAvailable()) throw new Error('this browser has no Origin Private File System: there are no checkpoints to resume from');
    const known = this.runs.get(runId);
    if (known && (known.state === 'queued' || known.state === 'running' || known.state === 'paused')) throw new Error(`run ${runId} is ${known.state}`);
    const m = this.needModel();
    if (!this.data) throw new Error('load the run\'s data first');
    const store = new OpfsStore(runId);
    const meta = await readMeta(store);
    if (meta && (meta.model !== m.info.label || meta.data !== dataLabel(this.data))) {
      throw Object.assign(new Error(`run ${runId} trained ${meta.model} on ${meta.data}; load those (now: ${m.info.label}, ${dataLabel(this.data)}), then resume`), { code: 'RUN_MISMATCH' });
    }
    const ck = await loadLatestCheckpoint(store);
    if (!ck) throw new Error(`run ${runId} has no complete checkpoint to resume from`);
    for (const s of ck.skipped) this.emit({ kind: 'warning', runId, message: `ignored an incomplete checkpoint (${s.reason})` });
    const config = checkResolvedConfig(ck.state.config);
    const run: RunRecord = known ?? { id: runId, state: 'queued', paused: false, stop: false, backfill: true };
    this.runs.set(runId, run);
    Object.assign(run, { config, store, checkpointStep: ck.state.step, stop: false, paused: false, result: undefined, bundle: undefined });
    this.setState(run, 'queued', { checkpointStep: ck.state.step });
    const queued = [...this.runs.values()].filter((r) => r.state === 'queued').length;
    this.queue = this.queue.then(() => this.runOne(run, ck.state)).catch(() => undefined);
    return { queued, fromStep: ck.state.step };
  }

  /** Runs in OPFS whose newest checkpoint is before their end and that are not active here. */
  async unfinished(): Promise<UnfinishedRun[]> {
    return unfinishedRuns((id) => ['queued', 'running', 'paused'].includes(this.runs.get(id)?.state ?? ''));
  }

  /** After a reload: the curves and rank reports the checkpoint holds, as the live run sent them. */
  private backfill(run: RunRecord, s: TrainState, stepsPerEpoch: number): void {
    const b = backfillOf(run.config as TrainingConfig, s, stepsPerEpoch);
    this.push(run.id, b.steps, b.evals);
    this.flush();
    for (const it of b.iterations) this.emit({ kind: 'iteration', runId: run.id, ...it });
  }

  private async runOne(run: RunRecord, resume?: TrainState): Promise<void> {
    if (run.stop) { this.setState(run, 'stopped'); return; }
    const c = run.config as TrainingConfig;
    const m = this.needModel();
    let ctx: GpuContext | undefined;
    try {
      this.setState(run, 'running', resume ? { resumedFrom: resume.step, backfill: run.backfill === true } : {});
      if (run.store && !resume) {
        await writeMeta(run.store, { model: m.info.label, data: dataLabel(this.data as LoadedData) }).catch((e: unknown) => {
          this.emit({ kind: 'warning', runId: run.id, message: `checkpoints are off for this run: ${e instanceof Error ? e.message : String(e)}` });
          run.store = undefined;
        });
      }
      const data = this.data as LoadedData;
      const input: RunInput = data.kind === 'text'
        ? { kind: 'text', bytes: data.bytes, name: data.name, tokenizer: m.tokenizer as TextTokenizer, chatTemplate: m.chat?.template ?? null }
        : { kind: 'images', paths: data.files.map((f) => f.path), decode: imageDecoder(data.files) };
      ctx = await this.device();
      const runCtx = ctx;
      // A ViT given a new head is loaded again inside prepareRun: the bar follows that model's reads.
      const runModel = { ...m, onReload: (l: LoadedModel) => m.upload.watch(onDiskTensors(l)) };
      const prepared = await m.upload.during(`run ${run.id}`, () => prepareRun(runCtx, runModel, input, { resolved: c }));
      Object.assign(run, { loaded: prepared.loaded, config: prepared.config, sample: prepared.sample });
      if (prepared.kind === 'image') {
        run.classNames = prepared.classNames ?? undefined;
        const rejected = prepared.preview?.rejected ?? [];
        if (rejected.length) this.emit({ kind: 'warning', runId: run.id, message: `${rejected.length} images skipped; first: ${rejected[0].file}: ${rejected[0].reason}` });
      }
      const control: TrainControl = {
        shouldStop: () => run.stop || !this.ctx,
        waitIfPaused: () => {
          if (!run.paused) return Promise.resolve();
          this.flush();
          this.setState(run, 'paused');
          return new Promise<void>((resolve) => { run.resume = resolve; });
        },
      };
      try {
        run.result = await trainRun(prepared, {
          control, checkpoints: run.store, resumeFrom: resume,
          onEvent: (e) => {
            if (e.type === 'start') this.emit({ kind: 'run-state', runId: run.id, state: 'running', totalSteps: e.totalSteps, stepsPerEpoch: e.stepsPerEpoch });
            if (e.type === 'start' && resume && run.backfill) { this.backfill(run, resume, e.stepsPerEpoch); run.backfill = false; }
            if (e.type === 'checkpoint') run.checkpointStep = e.step;
            if (e.type === 'checkpoint-error') this.emit({ kind: 'warning', runId: run.id, message: e.message });
            if (e.type === 'step') this.push(run.id, [{ step: e.step, epoch: e.epoch, iteration: e.iteration, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm, tokensPerSec: e.targetsPerSec }], []);
            if (e.type === 'eval') this.push(run.id, [], [{ step: e.step, valLoss: e.valLoss, ...(e.valAccuracy !== undefined ? { valAccuracy: e.valAccuracy } : {}) }]);
            if (e.type === 'iteration') { this.flush(); this.emit({ kind: 'iteration', runId: run.id, step: e.step, report: e.report }); }
            if (e.type === 'bad-step') this.emit({ kind: 'warning', runId: run.id, message: `step ${e.step}: ${e.reason}; update skipped` });
            if (e.type === 'rollback') this.emit({ kind: 'warning', runId: run.id, message: e.message });
            if (e.type === 'early-stop') this.emit({ kind: 'warning', runId: run.id, message: `early stop at step ${e.step}: ${e.patience} evaluations without improvement (best at step ${e.bestStep})` });
          },
        });
      } finally {
        if (this.ctx) prepared.engine.destroy();
      }
      this.flush();
      if (!this.ctx) throw new Error('the GPU device was lost during the run; the curves so far are kept. Reset the device to run again.');
      const r = run.result;
      const last = r.iterations[r.iterations.length - 1];
      const ranks = last?.layers.map((l) => l.spectrum?.effectiveRank).filter((x): x is number => x !== undefined) ?? [];
      this.emit({
        kind: 'summary', runId: run.id, summary: {
          steps: r.steps, finalTrainLoss: r.finalTrainLoss, finalValLoss: r.finalVal?.loss ?? null, bestValLoss: r.bestVal?.loss ?? null,
          finalValAccuracy: r.finalVal?.accuracy ?? null, effectiveRank: ranks.length ? ranks.reduce((a, b) => a + b, 0) / ranks.length : null,
          adapterRank: r.adapter?.r ?? null, parity: null, keptStep: r.kept?.step ?? null, earlyStoppedAt: r.earlyStoppedAt,
        },
      });
      if (!r.stopped && run.store) {
        // A finished run needs no resume: its checkpoints go (the result stays in memory for exports).
        await removeOpfsRun(run.id).catch(() => undefined);
        run.checkpointStep = undefined;
      }
      this.setState(run, r.stopped ? 'stopped' : 'done', run.checkpointStep !== undefined ? { checkpointStep: run.checkpointStep } : {});
    } catch (e) {
      this.flush();
      const ck = run.checkpointStep !== undefined ? { checkpointStep: run.checkpointStep } : {};
      // A loss surfaces as a failed readback too, possibly before device.lost settles (C5: within 1 s).
      const lost = !this.ctx || (ctx !== undefined && await Promise.race([ctx.device.lost.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 1000))]));
      // A lost device fails the run (issue 13 item 7): one line with the likely cause; curves and checkpoint stay.
      this.setState(run, 'error', { message: lost ? deviceLossMessage(this.lastLoss, run.checkpointStep) : runFailureMessage(e, c), ...ck });
    }
  }

  /** The run's adapter, merged weights and parity figure; the merged folder itself is streamed by export(). */
  private async bundle(run: RunRecord): Promise<ExportBundle> {
    if (run.bundle) return run.bundle;
    if (!run.result || !run.loaded || !run.config || !run.sample) throw new Error(`run ${run.id} has no finished result to export`);
    const m = this.needModel();
    const companions = await readCompanions(m.source);
    const ctx = await this.device(), x = { ctx, loaded: run.loaded, companions, result: run.result, config: run.config, baseName: m.info.label, classNames: run.classNames, sample: run.sample };
    run.bundle = await m.upload.during(`the export's parity check (run ${run.id})`, () => buildExports(x, { streamMerged: true }));
    return run.bundle;
  }

  async export(runId: string, what: 'merged' | 'adapter' | 'log', dtype: ExportDtype = 'F32', target: ExportTarget = { kind: 'zip' }): Promise<ExportReply> {
    const run = this.runs.get(runId);
    if (!run?.result) throw new Error(`run ${runId} has not finished`);
    if (what === 'log') {
      const state = { log_history: run.result.history, global_step: run.result.steps, best_metric: run.result.bestVal?.loss ?? null, ...(run.result.kept ? { best_global_step: run.result.kept.step } : {}), training_config: run.config };
      const bytes = new TextEncoder().encode(JSON.stringify(state, null, 2));
      return { fileName: `${runId}-trainer_state.json`, bytes: bytes.buffer as ArrayBuffer, parity: null, note: null };
    }
    const b = await this.bundle(run);
    const from = run.result.kept ? `weights of step ${run.result.kept.step} (best validation loss ${run.result.kept.valLoss.toFixed(4)}, keep-best)` : `weights of the last step (${run.result.steps})`;
    if (what === 'adapter') {
      if (!b.adapter) throw new Error(`this run has no PEFT adapter: ${b.adapterNote}`);
      const zip = zipFiles(b.adapter, `${runId}-adapter`);
      return { fileName: `${runId}-adapter.zip`, bytes: zip.buffer as ArrayBuffer, parity: b.parity, note: from };
    }
    return this.exportMerged(run, b, dtype, target, from);
  }

  /**
   * The merged folder, tensor by tensor, into the folder the user picked or a streamed zip (./exportSinks.ts),
   * after the sampled-rows merge check (a wrong merge writes nothing); BF16/F16 round the F32 merge once.
   */
  private async exportMerged(run: RunRecord, b: ExportBundle, dtype: ExportDtype, target: ExportTarget, from: string): Promise<ExportReply> {
    const result = run.result as TrainResult, loaded = run.loaded as LoadedModel;
    const m = this.needModel();
    const mergeCheck = result.adapter
      ? await checkMergedRows(adapterCheckModules(loaded, result.adapter), (n) => tensorFloat32(loaded.tensors.get(n) as NonNullable<ReturnType<typeof loaded.tensors.get>>), (n) => b.mergedWeights.get(n), { ulps: mergeCheckUlps(result.iterations.length) })
      : null;
    if (mergeCheck) assertMergeCheck(mergeCheck);
    const companions = await readCompanions(m.source);
    const folder = `${run.id}-merged`;
    // A ViT with a new head is built in memory by buildExports (small models; the folder is renamed): F32 only.
    const inMemory = b.merged.size > 0;
    const half = dtype !== 'F32' && !inMemory ? dtype : undefined;
    const notes = [from, b.adapterNote, dtype !== 'F32' && inMemory ? `a ViT with a new head is exported in F32, not ${dtype}` : null];
    if (target.kind === 'zip') checkZipSize(mergedBytes(loaded, half ? 2 : 4));
    const zip = target.kind === 'zip' ? await zipSink(`${folder}.zip`, folder) : undefined;
    const sink = zip ? zip.sink : await directorySink((target as Extract<ExportTarget, { kind: 'directory' }>).handle, folder);
    const tally = half ? new RoundingTally(half) : undefined;
    let written: string[];
    if (inMemory) {
      for (const [name, bytes] of b.merged) await sink.file(name, bytes);
      written = [...b.merged.keys()];
    } else {
      written = await writeMergedModelStreamed({
        model: loaded, merged: (n) => b.mergedWeights.get(n), companions, dtype: half, tally,
        onTensor: (tensor, done, total) => this.emit({ kind: 'export-progress', runId: run.id, tensor, done, total }),
      }, sink);
    }
    const common = { parity: b.parity, mergeCheck, rounding: tally?.figure() ?? null, note: notes.filter(Boolean).join('; ') };
    if (!zip) return { fileName: folder, written, ...common };
    const blob = await zip.finish();
    return blob instanceof File ? { fileName: `${folder}.zip`, file: blob, ...common } : { fileName: `${folder}.zip`, bytes: await blob.arrayBuffer(), ...common };
  }

  /** The plain engine (no adapter effect) holding the base (runId null) or a run's merged weights and head. */
  private async inferenceEngine(runId: string | null): Promise<{ loaded: LoadedModel; weights?: ReadonlyMap<string, Float32Array>; head?: Map<string, Float32Array> }> {
    const m = this.needModel();
    const run = runId ? this.runs.get(runId) : undefined;
    if (runId && !run?.result) throw new Error(`run ${runId} has not finished`);
    const loaded = run?.loaded ?? m.loaded;
    if (!run?.result) return { loaded };
    const head = new Map([...run.result.head].filter(([k]) => k.startsWith('classifier.')));
    return { loaded, weights: run.result.merged, head };
  }

  async generate(r: Extract<import('./protocol').Request, { type: 'generate' }>): Promise<ReplyValue['generate']> {
    const m = this.needModel();
    if (m.loaded.kind === 'vit' || !m.tokenizer) throw new Error('text generation needs a language model (GPT-2 or a Llama family)');
    const tok = m.tokenizer;
    if (r.chat) return this.chatReply(r, r.chat, m, tok);
    const ids = Uint32Array.from(tok.encode(r.prompt));
    if (ids.length === 0) throw new Error('the prompt is empty: type a few words first');
    // A llama stops at any of config.json's eos ids too (the demo's: <|im_end|> and <|endoftext|>).
    const stops = [...(tok.eosTokenId === null ? [] : [tok.eosTokenId]), ...(m.loaded.kind === 'llama' ? m.loaded.config.eos_token_id : [])];
    const once = async (runId: string | null) => {
      const out = await this.sample(runId, ids, r, stops);
      return r.prompt + tok.decode(out.ids, { skipSpecialTokens: true });
    };
    return { base: await once(null), tuned: r.runId ? await once(r.runId) : null };
  }

  /** New tokens after `ids` on the base (runId null) or a run's merged weights: GPT-2's sampler or the Llama KV-cached one. */
  private async sample(runId: string | null, ids: Uint32Array, r: { maxNewTokens: number; temperature: number; topK: number; seed: number }, stops: readonly number[]): Promise<{ ids: number[]; stopReason: string }> {
    const src = await this.inferenceEngine(runId);
    const o = { maxNewTokens: r.maxNewTokens, temperature: r.temperature, topK: r.topK, seed: r.seed };
    const ctx = await this.device(), upload = this.needModel().upload, purpose = runId ? `generation (run ${runId})` : 'generation (base model)';
    if (src.loaded.kind === 'llama') {
      const loaded = src.loaded;
      // The engine's (1, T) plan must hold the prompt (the decoder's prefill embeds it): the model's context.
      const engine = await upload.during(purpose, () => createPlainEngine(ctx, loaded, { B: 1, T: contextOf(loaded) ?? 1 }, src.weights));
      try { return await generateLlama(engine, ids, { ...o, eosTokenIds: stops }); } finally { engine.destroy(); }
    }
    if (src.loaded.kind !== 'gpt2') throw new Error('text generation needs a language model (GPT-2 or a Llama family)');
    const loaded = src.loaded;
    const engine = await upload.during(purpose, () => createPlainEngine(ctx, loaded, { B: 1, T: loaded.config.n_positions }, src.weights, src.head));
    try { return await generate(engine, ids, { ...o, eosTokenId: stops.length ? stops : undefined }); } finally { engine.destroy(); }
  }

  /**
   * Chat mode: the conversation rendered with the model's template and add_generation_prompt, tokenized as
   * is (the template writes BOS), sampled until any stop id (config / generation_config eos_token_id, the
   * tokenizer's EOS, the template's end-of-turn token); the reply is decoded without special tokens.
   */
  private async chatReply(r: Extract<import('./protocol').Request, { type: 'generate' }>, chat: ChatMessage[], m: ModelSlot, tok: TextTokenizer): Promise<ReplyValue['generate']> {
    const tpl = m.chat?.template;
    if (!tpl) throw new Error(noTemplateForChat());
    const stops = m.chat!.stopIds;
    const once = async (runId: string | null) => {
      const turns = runId ? (r.tunedChat ?? chat) : chat;
      if (turns.length === 0 || turns[turns.length - 1].role !== 'user') throw new Error('chat: the conversation must end with a user message');
      const ids = Uint32Array.from(tok.encode(tpl.render(turns, true)));
      const out = await this.sample(runId, ids, r, stops);
      const reply = out.stopReason === 'eos' ? out.ids.slice(0, -1) : out.ids;
      return tok.decode(reply, { skipSpecialTokens: true });
    };
    return { base: await once(null), tuned: r.runId ? await once(r.runId) : null };
  }

  async classify(r: Extract<import('./protocol').Request, { type: 'classify' }>): Promise<ReplyValue['classify']> {
    const m = this.needModel();
    if (m.loaded.kind !== 'vit') throw new Error('image classification needs a ViT model');
    const img = await decodeImage(r.image, r.name);
    const once = async (runId: string | null) => {
      const run = runId ? this.runs.get(runId) : undefined;
      const { loaded, weights, head } = await this.inferenceEngine(runId);
      if (loaded.kind !== 'vit') throw new Error('image classification needs a ViT model');
      const pixels = preprocessImage(img, loaded.preprocessor ?? defaultProcessor(loaded.config), loaded.config);
      const ctx = await this.device();
      const engine = await m.upload.during(runId ? `classification (run ${runId})` : 'classification (base model)', () => createPlainEngine(ctx, loaded, { B: 1, T: 0 }, weights, head));
      try {
        const logits = await engine.forwardLogits(pixels);
        const names = run?.classNames ?? loaded.config.id2label;
        return topKPredictions(logits, names.length === logits.length ? names : Array.from(logits, (_, i) => `LABEL_${i}`), 3)[0].map((p) => ({ label: p.label, prob: p.prob }));
      } finally { engine.destroy(); }
    };
    return { base: await once(null), tuned: r.runId ? await once(r.runId) : null };
  }
}

/** Bytes of the merged folder's tensors at `width` bytes per element (the zip's size, less its small files). */
function mergedBytes(loaded: LoadedModel, width: number): number {
  let n = 0;
  for (const t of [...loaded.tensors.values(), ...loaded.passthrough.values()]) n += width * t.shape.reduce((a, b) => a * b, 1);
  return n;
}
