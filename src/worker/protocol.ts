// The one typed message union between the studio's UI thread and its training worker (which owns the
// GPU device). Requests carry ids and get exactly one reply (result or error); progress, metrics, rank
// spectra and device loss travel separately as events. ArrayBuffers go in transfer lists. Metrics are
// batched by the worker (METRICS_FLUSH_MS) so the UI renders a few times a second, not per step.
import type { TrainingConfig } from '../train/config';
import type { IterationReport } from '../train/cascade';
import type { ExportDtype, MergeCheck, ParityFigure, RoundingFigure } from '../io/export';
import type { RunSize, StepTiming } from './runSize';
import type { HubProgress } from '../io/hub/download';

export const METRICS_FLUSH_MS = 150;

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  cause?: string;
}

export type DemoModel = 'gpt2-fortunes' | 'vit-mnist' | 'llama-fortunes';

export type ModelSource =
  | { kind: 'demo'; name: DemoModel }
  /**
   * A folder the user picked: File objects (structured-cloned, disk-backed), read by the worker through
   * File.slice tensor by tensor; `{ name, bytes }` is accepted for bytes already in memory (tests).
   */
  | { kind: 'files'; label: string; files: (File | { name: string; bytes: ArrayBuffer })[] }
  /** Opt-in download from the Hugging Face Hub (src/io/hub); the token is used for this load only. */
  | { kind: 'hub'; repo: string; revision: string; token?: string };

/** Where a model downloaded from the Hub came from (ModelInfo.hub). */
export interface HubLoadInfo {
  repo: string;
  revision: string;
  commit: string;
  from: 'network' | 'cache';
  offline: boolean;
  bytes: number;
}

export type DataSource =
  | { kind: 'demo' }
  | { kind: 'text'; name: string; bytes: ArrayBuffer }
  | { kind: 'images'; label: string; files: { path: string; bytes: ArrayBuffer }[] };

export interface ModelInfo {
  kind: 'gpt2' | 'vit' | 'llama';
  label: string;
  layers: number;
  /** Module names a target_modules list can use (c_attn, …; query, value, …; self_attn.q_proj, …): the loaded model's linear modules. */
  moduleNames: string[];
  defaultTargets: string[];
  parameters: number;
  /** The stored dtypes of the canonical weights (F32, BF16, F16): whether the frozen-weights choice changes anything. */
  weightDtypes?: string[];
  nPositions?: number;
  classes?: string[];
  warnings: string[];
  /** Where the model's chat template came from (chat_template.jinja / tokenizer_config.json); absent: no chat mode. */
  chatTemplate?: string;
  /** Set when the model came from the Hub. */
  hub?: HubLoadInfo;
}

export interface DataPreview {
  kind: 'text' | 'images';
  label: string;
  lines: string[]; // what was parsed (counts, formats)
  samples: string[]; // first examples (text) or class names with counts
  /** A chat .jsonl: the first conversations rendered by the template, cut into trained / not-trained segments. */
  chat?: { text: string; trained: boolean }[][];
  rejected: { where: string; reason: string }[];
}

/** Which demo preset fills the unset fields: the short run for a CPU adapter, or the full one. */
export type RunProfile = 'quick' | 'full';

/** The studio worker's adapter, and whether it is a CPU implementation (./deviceClass.ts). */
export interface DeviceInfo {
  adapter: string;
  software: boolean;
  evidence: string;
}

export interface MemoryEstimate {
  /** The run's steps and FLOPs (./runSize.ts), for the duration estimate. */
  size: RunSize;
  bytes: number;
  largestBuffer: number;
  limitBuffer: number;
  limitBinding: number;
  fits: boolean;
  why?: string;
  /** The memory plan by category (src/train/memoryPlan.ts) and the activations with the other recompute setting. */
  plan?: { bytes: Record<'weights' | 'trainables' | 'gradients' | 'optimizer' | 'activations' | 'workspace' | 'uniforms' | 'readback', number>; activationsOther: number; recompute: boolean };
}

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type Request =
  | { id: number; type: 'load-model'; source: ModelSource }
  | { id: number; type: 'load-data'; source: DataSource; seqLen: number }
  | { id: number; type: 'device' }
  | { id: number; type: 'estimate'; config: Partial<TrainingConfig>; profile: RunProfile }
  | { id: number; type: 'start'; runId: string; config: Partial<TrainingConfig>; profile: RunProfile }
  /** Time one training step and one evaluation batch of this config's shape on this device. */
  | { id: number; type: 'time-step'; config: Partial<TrainingConfig>; profile: RunProfile }
  | { id: number; type: 'control'; runId: string; action: 'pause' | 'resume' | 'stop' }
  /** Continue an interrupted run (reload, device loss, stop) from its newest checkpoint in OPFS. */
  | { id: number; type: 'resume'; runId: string }
  /** Runs with a checkpoint in OPFS that did not finish (offered for resume after a reload). */
  | { id: number; type: 'unfinished' }
  /**
   * The merged model goes tensor by tensor to `target`: a folder the user picked (File System Access API)
   * or a streamed .zip (the default); `dtype` F32 (default), BF16 or F16 rounds the F32 merge once.
   */
  | { id: number; type: 'export'; runId: string; what: 'merged' | 'adapter' | 'log'; dtype?: ExportDtype; target?: ExportTarget }
  /**
   * Continue `prompt`, or with `chat`, reply to the conversation through the model's chat template (the
   * fine-tuned side replies to `tunedChat` when given: each side keeps its own replies in its history).
   */
  | { id: number; type: 'generate'; prompt: string; chat?: ChatTurn[]; tunedChat?: ChatTurn[]; runId: string | null; maxNewTokens: number; temperature: number; topK: number; seed: number }
  | { id: number; type: 'classify'; image: ArrayBuffer; name: string; runId: string | null }
  | { id: number; type: 'reset-device' }
  /** Stop a Hub download in progress (the load then fails with HUB_CANCELLED). */
  | { id: number; type: 'cancel-load' };

export type RequestType = Request['type'];

/** Where a merged export goes: a directory handle from showDirectoryPicker (or OPFS), or a streamed zip. */
export type ExportTarget = { kind: 'directory'; handle: FileSystemDirectoryHandle } | { kind: 'zip' };

export interface ExportReply {
  fileName: string;
  /** Small exports (adapter, log, a zip built without OPFS): the bytes. */
  bytes?: ArrayBuffer;
  /** A streamed zip: the file the worker wrote in the origin's private storage (disk-backed, not in memory). */
  file?: File;
  /** A directory export: the files written under `fileName` in the folder the user picked. */
  written?: string[];
  parity: ParityFigure | null;
  /** The sampled-rows merge check (docs/formats.md#parity); null without an adapter to check against. */
  mergeCheck?: MergeCheck | null;
  /** BF16/F16 exports: how much of the update survived the rounding. */
  rounding?: RoundingFigure | null;
  note: string | null;
}

/** A model load in progress: bytes of the weights read so far (folder: File.slice; Hub: downloaded). */
export interface LoadProgressView {
  source: 'files' | 'hub';
  /**
   * What the bytes are: a Hub download, the weights read at load (in-memory and ViT loads), a streamed
   * load's headers (the weights stay on disk), or a streamed model's weights going to the GPU as an
   * engine is built (a run's start, the step-timing probe, generation, the export's parity check).
   * Absent in events from before the field (treated as 'read').
   */
  phase?: 'download' | 'read' | 'headers' | 'upload';
  /** Upload: what the engine is for ("run run-2", "timing a step", …). */
  purpose?: string;
  bytes: number;
  totalBytes: number;
  /** The tensor (folder) or file (Hub) being read. */
  item: string;
  elapsedMs: number;
  done: boolean;
  /** Upload: the engine build ended before every tensor was read (it failed or was cancelled). */
  stopped?: boolean;
}

export interface ReplyValue {
  'load-model': ModelInfo;
  'load-data': DataPreview;
  device: DeviceInfo;
  estimate: MemoryEstimate;
  'time-step': StepTiming & { key: string };
  start: { queued: number };
  control: { state: RunState };
  resume: { queued: number; fromStep: number };
  unfinished: UnfinishedRun[];
  export: ExportReply;
  generate: { base: string; tuned: string | null };
  classify: { base: { label: string; prob: number }[]; tuned: { label: string; prob: number }[] | null };
  'reset-device': { adapter: string };
  'cancel-load': { cancelled: boolean };
}

/** interrupted: the run ended without finishing (device lost, page reloaded) and can resume from a checkpoint. */
export type RunState = 'queued' | 'running' | 'paused' | 'done' | 'stopped' | 'error' | 'interrupted';

export interface UnfinishedRun {
  runId: string;
  /** Step of the newest committed checkpoint, and the run's length. */
  step: number;
  totalSteps: number;
  config: TrainingConfig;
  /** Labels of the model and data it trained on (both must be loaded again to resume). */
  model: string;
  data: string;
}

export interface StepPoint {
  step: number;
  epoch: number;
  iteration: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
}

export interface EvalPoint {
  step: number;
  valLoss: number;
  valAccuracy?: number;
}

export interface RunSummary {
  steps: number;
  finalTrainLoss: number;
  finalValLoss: number | null;
  bestValLoss: number | null;
  finalValAccuracy: number | null;
  effectiveRank: number | null; // mean over layers, last report
  adapterRank: number | null;
  parity: ParityFigure | null;
  /** Keep-best: the step whose weights the exports and the playground use (null: the last step's). */
  keptStep: number | null;
  /** Early stop: the step the run ended at for want of improvement. */
  earlyStoppedAt: number | null;
}

export type StudioEvent =
  | {
    kind: 'run-state'; runId: string; state: RunState; message?: string; totalSteps?: number; stepsPerEpoch?: number;
    /** Step of the newest committed checkpoint (resume starts there). */
    checkpointStep?: number;
    /** The run continues from this checkpoint step: points after it are replaced; with `backfill` every point is resent. */
    resumedFrom?: number;
    backfill?: boolean;
  }
  | { kind: 'metrics'; runId: string; steps: StepPoint[]; evals: EvalPoint[] }
  | { kind: 'iteration'; runId: string; step: number; report: IterationReport }
  | { kind: 'summary'; runId: string; summary: RunSummary }
  | { kind: 'warning'; runId: string | null; message: string }
  | { kind: 'device-lost'; message: string }
  | { kind: 'hub-progress'; progress: HubProgress }
  | { kind: 'load-progress'; progress: LoadProgressView }
  | { kind: 'export-progress'; runId: string; tensor: string; done: number; total: number }
  /** Not sent by the worker: the client's own note that the worker died (an uncaught error, out of memory). */
  | { kind: 'worker-failed'; message: string };

export type WorkerMessage =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'event'; event: StudioEvent };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const cause = (e as { cause?: unknown }).cause;
    return {
      name: e.name, message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(cause !== undefined ? { cause: cause instanceof Error ? cause.message : String(cause) } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}
