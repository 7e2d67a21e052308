// Checkpoints for a bit-identical resume (docs/reliability.md#checkpoints-and-exact-resume). A checkpoint is the trainer's whole
// state at the top of a step, before that step runs: the trainable tensors (LoRA, DoRA magnitudes, the
// ViT head), the AdamW moments and per-tensor step counts, the dropout counter, the cascade (S, D, P,
// factors and how many iterations finished), the NaN guard's lrFactor/badRun, the log history and the config. The
// data order is a pure function of (seed, epoch), so the step is its position; LoRASC's noise is a pure
// function of (seed, iteration, W0 + D + P), so it is drawn again rather than stored.
//
// On disk (any CheckpointStore) a checkpoint is a folder step-<9 digits>/ with
//   tensors.safetensors  every tensor, by the canonical writer, which refuses NaN/Inf (D5)
//   state.json           everything else
//   manifest.json        written LAST: each file's byte size and SHA-256 — the commit point.
// The loader takes the newest folder whose manifest exists and whose files verify; a torn write (no
// manifest, a size or hash mismatch, a file missing) is skipped, so the previous checkpoint loads (E2).
// With keep-best or early stop on, their state and the kept weights (best_weight/, best_cascade/) are
// in the checkpoint too, so such a run resumes exactly as well.
import type { OptimizerState, TrainableEntryInfo, TrainableModel } from '../model/api';
import type { LoadedModel } from '../io/hfModel';
import { readSafetensors, tensorFloat32, writeSafetensors, type F32Tensor } from '../io/safetensors';
import type { CheckpointStore } from '../io/store';
import type { Cascade, IterationReport } from './cascade';
import type { TrainingConfig } from './config';
import type { TaskData } from './data';
import type { EvalResult } from './evaluate';
import type { LinearModule } from './modules';
import { BEST_CASCADE, BEST_WEIGHT, type KeepBestState, keepBestFromJson, keepBestTensors, keepBestToJson } from './keepBest';

export { type CheckpointStore, MemoryStore } from '../io/store';

export const CHECKPOINT_FORMAT = 'lorasc-checkpoint';
// v2: the AdamW step count is per trainable tensor (optimizerSteps by name), not one optimizerStep.
export const CHECKPOINT_VERSION = 2;
const TENSORS = 'tensors.safetensors', STATE = 'state.json', MANIFEST = 'manifest.json';
/** Committed checkpoints kept per run (the newest and the one before it, docs/formats.md#checkpoints). */
export const KEEP_CHECKPOINTS = 2;

/** What identifies the base model and the data of a run; a resume on other inputs is refused (E5). */
export interface RunFingerprint {
  model: string;
  data: string;
}

export interface TrainState {
  /** Optimizer steps done: the next step to run. */
  step: number;
  totalSteps: number;
  /** Cascade: the current iteration has begun (its noisy backbone is in the model). */
  inIteration: boolean;
  /** Cascade iterations finished. */
  cascadeIteration: number;
  entries: TrainableEntryInfo[];
  weights: Map<string, Float32Array>;
  optimizer: OptimizerState;
  /** Cascade.snapshot(); null for a single adapter. */
  cascade: Map<string, Float32Array> | null;
  lrFactor: number;
  badRun: number;
  lastLoss: number;
  bestVal: EvalResult | null;
  finalVal: EvalResult | null;
  targetsSeen: number;
  elapsedMs: number;
  history: Record<string, number>[];
  reports: IterationReport[];
  config: TrainingConfig;
  fingerprint: RunFingerprint;
  /** Keep-best and early-stop state with the kept weights (./keepBest.ts); null when both are off. */
  keepBest: KeepBestState | null;
}

export type CheckpointErrorCode = 'RUN_MISMATCH' | 'STORE_CORRUPT';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(readonly code: CheckpointErrorCode, message: string) {
    super(message);
  }
}

// ---- the trainer's side: capture and restore ----

type Counters = Pick<TrainState, 'lrFactor' | 'badRun' | 'lastLoss' | 'bestVal' | 'finalVal' | 'targetsSeen' | 'elapsedMs' | 'history' | 'reports' | 'keepBest'>;

/** Reads the state of the model and the cascade (GPU readbacks) at the top of step `step`. */
export async function captureState(
  model: TrainableModel<unknown>, cascade: Cascade | null,
  o: Counters & { step: number; totalSteps: number; inIteration: boolean; config: TrainingConfig; fingerprint: RunFingerprint },
): Promise<TrainState> {
  return {
    ...o, history: o.history.slice(), reports: o.reports.slice(),
    cascadeIteration: cascade?.iteration ?? 0,
    entries: model.trainableEntries(),
    weights: await model.readLoraWeights(),
    optimizer: await model.readOptimizerState(),
    cascade: cascade ? cascade.snapshot() : null,
  };
}

/**
 * Puts the model and the cascade in the captured state: the cascade's S, D, P and factors, the backbone
 * (noisy W0 + D + P + ε_t inside an iteration, clean W0 + D + P between iterations), then the trainable
 * tensors and the optimizer. The trainer's own counters are the caller's.
 */
export function restoreState(model: TrainableModel<unknown>, cascade: Cascade | null, s: TrainState): void {
  if (cascade) {
    if (!s.cascade) throw new CheckpointError('RUN_MISMATCH', 'the checkpoint is of a single-adapter run; this run is a cascade');
    cascade.restore(s.cascade, s.cascadeIteration);
    if (s.inIteration) cascade.beginIteration(model);
    else for (const [path, w] of cascade.mergedWeights()) model.setBaseWeight(path, w);
  } else if (s.cascade) {
    throw new CheckpointError('RUN_MISMATCH', 'the checkpoint is of a cascade run; this run trains a single adapter');
  }
  model.setLoraWeights(s.weights);
  model.setOptimizerState(s.optimizer);
}

/** NaN/±Inf values in the state's tensors, by tensor (the admission scan before a checkpoint, D5). */
export function nonFiniteTensors(s: TrainState): { name: string; count: number }[] {
  const out: { name: string; count: number }[] = [];
  for (const [name, x] of tensorsOf(s)) {
    let n = 0;
    for (let i = 0; i < x.data.length; i++) if (x.data[i] - x.data[i] !== 0) n++;
    if (n) out.push({ name, count: n });
  }
  return out;
}

/** Only config fields that change nothing in the numbers may differ on resume (recompute: bit-identical gradients). */
const FREE_ON_RESUME = new Set<keyof TrainingConfig>(['checkpointEvery', 'recompute']);

/** Refuses a checkpoint of another run: another config, base model, data or length (RUN_MISMATCH). */
export function checkResume(s: TrainState, config: TrainingConfig, fingerprint: RunFingerprint, totalSteps: number): void {
  const keys = new Set([...Object.keys(s.config), ...Object.keys(config)] as (keyof TrainingConfig)[]);
  for (const k of keys) {
    if (FREE_ON_RESUME.has(k)) continue;
    const a = JSON.stringify(s.config[k]), b = JSON.stringify(config[k]);
    if (a !== b) throw new CheckpointError('RUN_MISMATCH', `resume: config ${k} is ${b}, the checkpoint's run used ${a}; resume with the same settings`);
  }
  if (s.fingerprint.model !== fingerprint.model) throw new CheckpointError('RUN_MISMATCH', 'resume: the base model differs from the checkpoint\'s (weights, adapter slots or shapes); load the same model');
  if (s.fingerprint.data !== fingerprint.data) throw new CheckpointError('RUN_MISMATCH', `resume: the data differs from the checkpoint's (${s.fingerprint.data.split(':')[0]} vs ${fingerprint.data.split(':')[0]} examples); load the same data`);
  if (s.totalSteps !== totalSteps || s.step > totalSteps) throw new CheckpointError('RUN_MISMATCH', `resume: the run has ${totalSteps} steps, the checkpoint's ${s.totalSteps}`);
}

/** FNV-1a over the bytes given. */
function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h;
}

const bytesOf = (x: ArrayBufferView) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** A cheap identity of the inputs: the trainable table, 64 sampled values of each target's base weight, the split sizes, the first and last batches. */
export async function runFingerprint<E, I>(loaded: LoadedModel, targets: readonly LinearModule[], entries: TrainableEntryInfo[], data: TaskData<E, I>, B: number): Promise<RunFingerprint> {
  let m = fnv(2166136261, new TextEncoder().encode(`${loaded.kind}|${entries.map((e) => `${e.name}:${e.shape.join('x')}`).join(',')}`));
  for (const t of targets) {
    const stored = loaded.tensors.get(t.weight);
    if (!stored) continue;
    const w = await tensorFloat32(stored); // a streamed load keeps no copy: read again, one weight at a time
    const sample = new Float32Array(64).map((_, i) => w[Math.floor((i * w.length) / 64)]);
    m = fnv(m, bytesOf(sample));
  }
  let d = 2166136261;
  for (const part of [data.train.slice(0, B), data.train.slice(-B), data.val.slice(0, B)]) {
    if (part.length === 0) continue;
    const b = data.collate(part, B);
    d = fnv(fnv(d, bytesOf(b.input as ArrayBufferView)), bytesOf(b.labels));
  }
  const hex = (x: number) => x.toString(16).padStart(8, '0');
  return { model: hex(m), data: `${data.train.length}/${data.val.length}:${hex(d)}` };
}

// ---- files ----

function tensorsOf(s: TrainState): Map<string, F32Tensor> {
  const shape = new Map(s.entries.map((e) => [e.name, e.shape]));
  const out = new Map<string, F32Tensor>();
  const put = (prefix: string, m: ReadonlyMap<string, Float32Array>, keepShape: boolean) => {
    for (const [k, v] of m) out.set(`${prefix}${k}`, { data: v, shape: keepShape ? shape.get(k) ?? [v.length] : [v.length] });
  };
  put('weight/', s.weights, true);
  put('adam_m/', s.optimizer.m, true);
  put('adam_v/', s.optimizer.v, true);
  if (s.cascade) put('cascade/', s.cascade, false);
  if (s.keepBest) for (const [group, m] of keepBestTensors(s.keepBest)) put(`${group}/`, m, group === BEST_WEIGHT);
  return out;
}

// JSON has no NaN/Infinity; scalars such as lastLoss (NaN before the first step) travel as {"$nonfinite": "NaN"}.
const replacer = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $nonfinite: String(v) } : v);
const reviver = (_k: string, v: unknown) =>
  (v !== null && typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { $nonfinite?: unknown }).$nonfinite === 'string'
    ? Number((v as { $nonfinite: string }).$nonfinite) : v);

/** Why a checkpoint of an older format version is refused (v1 had one AdamW step count for all tensors). */
const olderVersion = (v: number) => `written in checkpoint format v${v}; this version reads v${CHECKPOINT_VERSION} only (per-tensor AdamW step counts), so this run cannot be resumed — start it again (the checkpoint files are left as they are)`;

/** The two data files; throws SafetensorsError EXPORT_NONFINITE when a tensor holds NaN/±Inf. */
export function encodeCheckpoint(s: TrainState): Map<string, Uint8Array> {
  const tensors = writeSafetensors(tensorsOf(s), { file: `${folderOf(s.step)}/${TENSORS}` });
  const { weights: _w, optimizer, cascade: _c, keepBest, ...rest } = s;
  const state = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...rest, keepBest: keepBest ? keepBestToJson(keepBest) : null, optimizerSteps: Object.fromEntries(optimizer.steps), dropoutStep: optimizer.dropoutStep, cascade: s.cascade !== null };
  return new Map([[TENSORS, tensors], [STATE, new TextEncoder().encode(JSON.stringify(state, replacer))]]);
}

export function decodeCheckpoint(files: ReadonlyMap<string, Uint8Array>, where = 'checkpoint'): TrainState {
  const bad = (msg: string) => new CheckpointError('STORE_CORRUPT', `${where}: ${msg}`);
  const stateBytes = files.get(STATE), tensorBytes = files.get(TENSORS);
  if (!stateBytes || !tensorBytes) throw bad(`${STATE} or ${TENSORS} is missing`);
  let j: Record<string, unknown>;
  try { j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(stateBytes), reviver) as Record<string, unknown>; } catch (e) { throw bad(`${STATE} is not JSON (${(e as Error).message})`); }
  if (j.format === CHECKPOINT_FORMAT && typeof j.version === 'number' && j.version < CHECKPOINT_VERSION) throw bad(olderVersion(j.version));
  if (j.format !== CHECKPOINT_FORMAT || j.version !== CHECKPOINT_VERSION) throw bad(`${STATE} is not a ${CHECKPOINT_FORMAT} v${CHECKPOINT_VERSION} file`);
  for (const k of ['step', 'totalSteps', 'cascadeIteration', 'dropoutStep', 'badRun']) {
    if (!Number.isSafeInteger(j[k]) || (j[k] as number) < 0) throw bad(`${STATE}: ${k} is not an integer ≥ 0`);
  }
  const steps = j.optimizerSteps;
  if (typeof steps !== 'object' || steps === null || Array.isArray(steps)) throw bad(`${STATE}: optimizerSteps is missing`);
  for (const [name, t] of Object.entries(steps)) if (!Number.isSafeInteger(t) || (t as number) < 0) throw bad(`${STATE}: optimizerSteps.${name} is not an integer ≥ 0`);
  if (!Array.isArray(j.entries) || !Array.isArray(j.history) || !Array.isArray(j.reports) || typeof j.config !== 'object' || j.config === null) throw bad(`${STATE}: entries, history, reports or config missing`);
  const st = readSafetensors(tensorBytes, `${where}/${TENSORS}`);
  const groups = new Map<string, Map<string, Float32Array>>([['weight', new Map()], ['adam_m', new Map()], ['adam_v', new Map()], ['cascade', new Map()], [BEST_WEIGHT, new Map()], [BEST_CASCADE, new Map()]]);
  for (const [name, t] of st.tensors) {
    const slash = name.indexOf('/');
    const g = groups.get(name.slice(0, slash));
    if (slash < 0 || !g) throw bad(`${TENSORS}: unexpected tensor ${name}`);
    if (t.dtype !== 'F32') throw bad(`${TENSORS}: ${name} is ${t.dtype}, not F32`);
    g.set(name.slice(slash + 1), t.data);
  }
  const entries = j.entries as TrainableEntryInfo[];
  for (const e of entries) {
    for (const g of ['weight', 'adam_m', 'adam_v']) if (!groups.get(g)?.has(e.name)) throw bad(`${TENSORS}: ${g}/${e.name} is missing`);
    if (!Object.hasOwn(steps, e.name)) throw bad(`${STATE}: optimizerSteps.${e.name} is missing`);
  }
  return {
    step: j.step as number, totalSteps: j.totalSteps as number, inIteration: j.inIteration === true, cascadeIteration: j.cascadeIteration as number,
    entries, weights: groups.get('weight') as Map<string, Float32Array>,
    optimizer: { m: groups.get('adam_m') as Map<string, Float32Array>, v: groups.get('adam_v') as Map<string, Float32Array>, steps: new Map(Object.entries(steps as Record<string, number>)), dropoutStep: j.dropoutStep as number },
    cascade: j.cascade === true ? groups.get('cascade') as Map<string, Float32Array> : null,
    lrFactor: j.lrFactor as number, badRun: j.badRun as number, lastLoss: j.lastLoss as number,
    bestVal: (j.bestVal ?? null) as EvalResult | null, finalVal: (j.finalVal ?? null) as EvalResult | null,
    targetsSeen: Number(j.targetsSeen) || 0, elapsedMs: Number(j.elapsedMs) || 0,
    history: j.history as Record<string, number>[], reports: j.reports as IterationReport[],
    config: j.config as TrainingConfig, fingerprint: j.fingerprint as RunFingerprint,
    keepBest: keepBestFromJson(j.keepBest, groups, bad),
  };
}

// ---- the commit protocol ----

export const folderOf = (step: number) => `step-${String(step).padStart(9, '0')}`;

function stepOfFolder(folder: string): number | null {
  const m = /^step-(\d{9,})$/.exec(folder);
  return m ? Number(m[1]) : null;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as unknown as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface Manifest {
  format: string;
  version: number;
  step: number;
  files: { name: string; bytes: number; sha256: string }[];
}

/** Folders of the store by step, newest first (names that are not checkpoint folders are ignored). */
async function folders(store: CheckpointStore): Promise<{ folder: string; step: number; names: Set<string> }[]> {
  const byFolder = new Map<string, Set<string>>();
  for (const name of await store.list()) {
    const slash = name.indexOf('/');
    if (slash < 0) continue;
    const f = name.slice(0, slash);
    if (stepOfFolder(f) === null) continue;
    if (!byFolder.has(f)) byFolder.set(f, new Set());
    byFolder.get(f)?.add(name.slice(slash + 1));
  }
  return [...byFolder].map(([folder, names]) => ({ folder, step: stepOfFolder(folder) as number, names })).sort((a, b) => b.step - a.step);
}

/**
 * Writes the checkpoint: data files, then the manifest (the commit), then removes older checkpoints
 * beyond `keep` and any torn folder. Throws (nothing committed) when a tensor is non-finite or the store fails.
 */
export async function writeCheckpoint(store: CheckpointStore, s: TrainState, keep = KEEP_CHECKPOINTS): Promise<{ folder: string; bytes: number }> {
  const files = encodeCheckpoint(s);
  const folder = folderOf(s.step);
  await store.remove(folder); // a torn attempt at this step, if any (committed folders are never rewritten)
  const manifest: Manifest = { format: `${CHECKPOINT_FORMAT}-manifest`, version: CHECKPOINT_VERSION, step: s.step, files: [] };
  let bytes = 0;
  for (const [name, data] of files) {
    await store.write(`${folder}/${name}`, data);
    manifest.files.push({ name, bytes: data.length, sha256: await sha256Hex(data) });
    bytes += data.length;
  }
  await store.write(`${folder}/${MANIFEST}`, new TextEncoder().encode(JSON.stringify(manifest)));
  let kept = 0;
  for (const f of await folders(store)) {
    const committed = f.names.has(MANIFEST);
    if (f.folder === folder || (committed && f.step < s.step && ++kept < keep)) continue;
    await store.remove(f.folder);
  }
  return { folder, bytes };
}

/** Reads and verifies one checkpoint folder; throws CheckpointError STORE_CORRUPT naming what is wrong. */
export async function readCheckpoint(store: CheckpointStore, folder: string): Promise<TrainState> {
  const bad = (msg: string) => new CheckpointError('STORE_CORRUPT', `${folder}: ${msg}`);
  const raw = await store.read(`${folder}/${MANIFEST}`);
  if (!raw) throw bad('no manifest (the write did not finish)');
  let m: Manifest;
  try { m = JSON.parse(new TextDecoder().decode(raw)) as Manifest; } catch { throw bad('the manifest is not JSON (torn write)'); }
  if (m.format === `${CHECKPOINT_FORMAT}-manifest` && typeof m.version === 'number' && m.version < CHECKPOINT_VERSION) throw bad(olderVersion(m.version));
  if (m.format !== `${CHECKPOINT_FORMAT}-manifest` || m.version !== CHECKPOINT_VERSION || !Array.isArray(m.files)) throw bad('not a checkpoint manifest of this version');
  if (m.step !== stepOfFolder(folder)) throw bad(`the manifest is of step ${m.step}`);
  const files = new Map<string, Uint8Array>();
  for (const f of m.files) {
    const data = await store.read(`${folder}/${f.name}`);
    if (!data) throw bad(`${f.name} is missing`);
    if (data.length !== f.bytes) throw bad(`${f.name} has ${data.length} bytes; the manifest says ${f.bytes}`);
    if ((await sha256Hex(data)) !== f.sha256) throw bad(`${f.name} does not match its SHA-256`);
    files.set(f.name, data);
  }
  const s = decodeCheckpoint(files, folder);
  if (s.step !== m.step) throw bad(`state.json is of step ${s.step}`);
  return s;
}

export interface LoadedCheckpoint {
  state: TrainState;
  folder: string;
  /** Newer folders that did not verify (torn writes), with the reason. */
  skipped: { folder: string; reason: string }[];
}

/** The newest checkpoint that verifies, or null; torn folders are skipped (and named) — never loaded. */
export async function loadLatestCheckpoint(store: CheckpointStore): Promise<LoadedCheckpoint | null> {
  const skipped: LoadedCheckpoint['skipped'] = [];
  for (const f of await folders(store)) {
    try {
      return { state: await readCheckpoint(store, f.folder), folder: f.folder, skipped };
    } catch (e) {
      skipped.push({ folder: f.folder, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return null;
}

/** The newest committed checkpoint's state.json only (no tensors, no hashing): for listing runs. */
export async function peekLatestCheckpoint(store: CheckpointStore): Promise<{ step: number; totalSteps: number; config: TrainingConfig } | null> {
  for (const f of await folders(store)) {
    if (!f.names.has(MANIFEST)) continue;
    const raw = await store.read(`${f.folder}/${STATE}`);
    if (!raw) continue;
    try {
      const j = JSON.parse(new TextDecoder().decode(raw), reviver) as { step: number; totalSteps: number; config: TrainingConfig };
      return { step: j.step, totalSteps: j.totalSteps, config: j.config };
    } catch {
      continue;
    }
  }
  return null;
}
