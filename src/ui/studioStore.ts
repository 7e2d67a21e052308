// Studio state (zustand): the model and data the worker has loaded, the method settings, and every run
// with its curves. Worker events land only in actions here; components read narrow selectors. Finished
// runs are kept in localStorage (curves downsampled) so the compare view survives a reload.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { ADAPTERS, DEFAULT_METHOD, adapterVariant, isMethodName, methodLabel } from '../adapters/registry';
import { METHOD_OPTIONS } from '../adapters/variant';
import { PRESETS, type TrainingConfig } from '../train/config';
import type { IterationReport } from '../train/cascade';
import { StudioClient } from '../worker/client';
import type { ExportDtype } from '../io/export/precision';
import type { DataPreview, DemoModel, DeviceInfo, EvalPoint, ExportReply, ExportTarget, LoadProgressView, MemoryEstimate, ModelInfo, RunProfile, RunState, RunSummary, StepPoint, StudioEvent, UnfinishedRun } from '../worker/protocol';
import type { RunSize, StepTiming } from '../worker/runSize';
import type { HubProgress } from '../io/hub/download';

export interface LayerPoint {
  path: string;
  effectiveRank: number | null;
  entropyRank: number | null;
  fastNorm: number;
  slowNorm: number;
  singularValues: number[];
}

export interface IterationPoint {
  step: number;
  iteration: number;
  layers: LayerPoint[];
}

export interface RunView {
  id: string;
  label: string;
  config: Partial<TrainingConfig>;
  state: RunState;
  message?: string;
  totalSteps?: number;
  stepsPerEpoch?: number;
  startedAt?: number;
  /** When the run reached done/stopped/error (for the elapsed time of a finished run). */
  endedAt?: number;
  /** The size the estimate gave for this run's settings when it started (FLOPs, steps). */
  size?: RunSize;
  steps: StepPoint[];
  evals: EvalPoint[];
  iterations: IterationPoint[];
  summary?: RunSummary;
  warnings: string[];
  /** Restored from a previous visit: curves only, nothing to export. */
  archived?: boolean;
  /** Step of the run's newest checkpoint in OPFS: the run can resume from there. */
  checkpointStep?: number;
}

type Load<T> = { status: 'idle' | 'loading' | 'ready' | 'error'; value?: T; error?: string };

/** The Hub download shown under the Hub control: each file's latest progress, in the order they started. */
export interface HubDownloadView {
  repo: string;
  active: boolean;
  files: Record<string, HubProgress>;
  order: string[];
}

export interface StudioState {
  model: Load<ModelInfo>;
  hub?: HubDownloadView;
  data: Load<DataPreview>;
  settings: Partial<TrainingConfig>;
  estimate?: MemoryEstimate;
  /** The training worker's adapter; until it is known Train waits (the run size depends on it). */
  device?: DeviceInfo;
  /** Which demo preset fills the unset fields: 'quick' on a CPU adapter, 'full' on a GPU, unless the user chose. */
  profile: RunProfile;
  profileChosen: boolean;
  /** Measured speed of this device: the self-check's 256³ matmul, GFLOP/s. */
  matmulGflops?: number;
  /** A timed training step and evaluation batch of the current settings' shape (the duration estimate). */
  timing?: StepTiming & { key: string };
  timingNote?: string;
  /** Exports in progress, by run: what and since when. */
  exporting: Record<string, { what: string; since: number; tensor?: string; done?: number; total?: number }>;
  /** The model load's bytes read (folder) or downloaded (Hub): the load progress bar. */
  loadProgress?: LoadProgressView;
  runs: Record<string, RunView>;
  order: string[];
  deviceLost?: string;
  lastExport?: { runId: string; what: string; fileName: string; parity: ExportReply['parity']; note: string | null; mergeCheck?: ExportReply['mergeCheck']; rounding?: ExportReply['rounding']; written?: string[] };
  loadDemo(name: DemoModel): Promise<void>;
  loadModelFiles(files: File[], label: string): Promise<void>;
  /** Downloads (or reads from the browser's cache) a Hub model repo; the token is sent to the Hub only and kept nowhere. */
  loadHub(repo: string, revision: string, token: string): Promise<void>;
  cancelHub(): Promise<void>;
  loadDataFiles(files: File[], label: string): Promise<void>;
  setSettings(patch: Partial<TrainingConfig>): void;
  setProfile(p: RunProfile): void;
  setMatmulGflops(g: number): void;
  train(overrides?: Partial<TrainingConfig>): Promise<string | undefined>;
  compare(methods: TrainingConfig['method'][]): Promise<void>;
  control(runId: string, action: 'pause' | 'resume' | 'stop'): Promise<void>;
  /** Continues an interrupted or stopped run from its newest checkpoint. */
  resumeRun(runId: string): Promise<void>;
  exportRun(runId: string, what: 'merged' | 'adapter' | 'log', options?: { dtype?: ExportDtype; target?: ExportTarget }): Promise<ExportReply | undefined>;
  resetDevice(): Promise<void>;
  clearHistory(): void;
  client: StudioClient;
}

/**
 * The target checkboxes ticked when a model loads: GPT-2 the demo's three (c_attn, c_proj, c_fc), ViT query
 * and value, every other family PEFT's defaults for it as the worker reports them (llama, mistral, qwen2,
 * qwen3: q_proj, v_proj), kept to the names the model has.
 */
export function initialTargets(info: Pick<ModelInfo, 'kind' | 'moduleNames' | 'defaultTargets'>): string[] {
  if (info.kind === 'gpt2') return ['c_attn', 'c_proj', 'c_fc'];
  if (info.kind === 'vit') return ['query', 'value'];
  const has = (t: string) => info.moduleNames.some((m) => m === t || m.endsWith(`.${t}`));
  const picked = info.defaultTargets.filter(has);
  return picked.length > 0 ? picked : info.moduleNames.slice(0, 1);
}

/**
 * The context the demo data is previewed at when the form leaves seqLen unset: 64 as before for GPT-2; a
 * llama's demo preset's (its chat set's exchanges are up to 92 tokens, so the preview does not report
 * conversations cut that the run will not cut).
 */
function demoSeqLen(s: Pick<StudioState, 'model' | 'profile'>): number {
  const kind = s.model.value?.kind;
  if (kind !== 'llama') return 64;
  return PRESETS[`llama-demo${s.profile === 'quick' ? '-cpu' : ''}`]?.seqLen ?? 64;
}

const HISTORY_KEY = 'lorasc-studio-runs';
const MAX_SAVED_POINTS = 400;

/** The method picker's entries, from the registry (src/adapters/registry.ts). */
export const METHOD_LABEL: Record<string, string> = Object.fromEntries(Object.values(ADAPTERS).map((v) => [v.name, v.label]));

export function runLabel(c: Partial<TrainingConfig>): string {
  const method = c.method ?? DEFAULT_METHOD;
  const parts = [methodLabel(method)];
  const v = isMethodName(method) ? adapterVariant(method) : null;
  // Options the method itself fixes or defaults (DoRA's magnitudes, LoRA+'s ratio) are in its label already.
  if (c.useDora && !v?.fixed.useDora) parts.push('+DoRA');
  if (c.loraplusRatio && !v?.defaults.loraplusRatio) parts.push('+LoRA+');
  parts.push(`r${c.r ?? 8}`);
  return parts.join(' ');
}

function downsample<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const k = Math.ceil(xs.length / max);
  return xs.filter((_, i) => i % k === 0 || i === xs.length - 1);
}

function restore(): { runs: Record<string, RunView>; order: string[] } {
  try {
    const raw = globalThis.localStorage?.getItem(HISTORY_KEY);
    if (!raw) return { runs: {}, order: [] };
    const saved = JSON.parse(raw) as RunView[];
    const runs: Record<string, RunView> = {};
    for (const r of saved) runs[r.id] = { ...r, archived: true, state: r.state === 'running' || r.state === 'paused' || r.state === 'queued' ? 'stopped' : r.state };
    return { runs, order: saved.map((r) => r.id) };
  } catch {
    return { runs: {}, order: [] };
  }
}

function save(s: Pick<StudioState, 'runs' | 'order'>): void {
  try {
    const list = s.order.map((id) => s.runs[id]).filter((r) => r && (r.state === 'done' || r.state === 'stopped'))
      .map((r) => ({ ...r, steps: downsample(r.steps, MAX_SAVED_POINTS), iterations: r.iterations.map((it) => ({ ...it, layers: it.layers.map((l) => ({ ...l, singularValues: l.singularValues.slice(0, 64) })) })) }));
    globalThis.localStorage?.setItem(HISTORY_KEY, JSON.stringify(list));
  } catch {
    // Storage full or unavailable: history is a convenience, the run itself is unaffected.
  }
}

function layerPoints(report: IterationReport): LayerPoint[] {
  return report.layers.map((l) => ({
    path: l.path, fastNorm: l.fastNorm, slowNorm: l.slowNorm,
    effectiveRank: l.spectrum?.effectiveRank ?? null, entropyRank: l.spectrum?.entropyRank ?? null,
    singularValues: l.spectrum?.singularValues ?? [],
  }));
}

/** The curves up to `step` (−1: none), for a run that continues from a checkpoint. */
function resumedCurves(r: RunView, step: number): Pick<RunView, 'steps' | 'evals' | 'iterations' | 'archived' | 'message'> {
  return { steps: r.steps.filter((p) => p.step <= step), evals: r.evals.filter((p) => p.step <= step), iterations: r.iterations.filter((p) => p.step <= step), archived: false, message: undefined };
}

/** An unfinished run found in OPFS at startup, as a row that offers to resume. */
function unfinishedView(u: UnfinishedRun, known: RunView | undefined): RunView {
  const base: RunView = known ?? { id: u.runId, label: runLabel(u.config), config: u.config, state: 'interrupted', steps: [], evals: [], iterations: [], warnings: [] };
  return {
    ...base, state: 'interrupted', archived: false, checkpointStep: u.step, totalSteps: u.totalSteps,
    message: `interrupted; resume from the checkpoint at step ${u.step} of ${u.totalSteps}? (needs ${u.model} and ${u.data} loaded)`,
  };
}

let runCounter = 0;

/** What the form holds → what the worker gets: no empty fields, no options the method does not read. */
export function cleanConfig(c: Partial<TrainingConfig>): Partial<TrainingConfig> {
  const out = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined && !(typeof v === 'number' && Number.isNaN(v)))) as Partial<TrainingConfig>;
  const v = adapterVariant(out.method ?? DEFAULT_METHOD);
  for (const k of METHOD_OPTIONS) if (!v.reads.includes(k) || k in v.fixed) delete out[k];
  if ('useDora' in v.fixed) delete out.useDora;
  return out;
}

export function createStudioStore(worker: () => Worker, base: string): StoreApi<StudioState> {
  const client = new StudioClient(worker(), base);
  const restored = restore();
  const store = createStore<StudioState>()((set, get) => {
    const updateRun = (id: string, f: (r: RunView) => RunView) => set((s) => (s.runs[id] ? { runs: { ...s.runs, [id]: f(s.runs[id]) } } : {}));
    const onEvent = (e: StudioEvent) => {
      switch (e.kind) {
        case 'run-state':
          updateRun(e.runId, (r) => ({
            ...r, state: e.state, ...(e.message ? { message: e.message } : e.state === 'running' ? { message: undefined } : {}),
            ...(e.state === 'done' || e.state === 'stopped' || e.state === 'error' ? { endedAt: Date.now() } : e.state === 'running' ? { endedAt: undefined } : {}),
            ...(e.totalSteps !== undefined ? { totalSteps: e.totalSteps, stepsPerEpoch: e.stepsPerEpoch, startedAt: Date.now() } : {}),
            ...(e.state === 'done' || e.checkpointStep !== undefined ? { checkpointStep: e.checkpointStep } : {}),
            // A resumed run redoes the steps after its checkpoint (after a reload the worker resends all points).
            ...(e.resumedFrom !== undefined ? resumedCurves(r, e.backfill ? -1 : e.resumedFrom) : {}),
          }));
          if (e.state === 'done' || e.state === 'stopped' || e.state === 'error') save(get());
          break;
        case 'metrics':
          updateRun(e.runId, (r) => ({ ...r, steps: [...r.steps, ...e.steps], evals: [...r.evals, ...e.evals] }));
          break;
        case 'iteration':
          updateRun(e.runId, (r) => ({ ...r, iterations: [...r.iterations, { step: e.step, iteration: e.report.iteration, layers: layerPoints(e.report) }] }));
          break;
        case 'summary':
          updateRun(e.runId, (r) => ({ ...r, summary: e.summary }));
          break;
        case 'warning':
          if (e.runId) updateRun(e.runId, (r) => ({ ...r, warnings: [...r.warnings, e.message] }));
          break;
        case 'device-lost':
          set({ deviceLost: e.message });
          break;
        case 'load-progress':
          set({ loadProgress: e.progress });
          break;
        case 'export-progress':
          set((s) => (s.exporting[e.runId] ? { exporting: { ...s.exporting, [e.runId]: { ...s.exporting[e.runId], tensor: e.tensor, done: e.done, total: e.total } } } : {}));
          break;
        case 'worker-failed':
          // The worker is gone (its GPU device and memory with it): every run it held fails, curves kept.
          set((s) => ({
            deviceLost: e.message,
            runs: Object.fromEntries(Object.entries(s.runs).map(([id, r]) => [id, ['queued', 'running', 'paused'].includes(r.state)
              ? { ...r, state: 'error' as RunState, endedAt: Date.now(), message: `failed: ${e.message}${r.checkpointStep !== undefined ? `; the checkpoint of step ${r.checkpointStep} is kept: reload the page to resume` : ''}` }
              : r])),
          }));
          save(get());
          break;
        case 'hub-progress': {
          const p = e.progress;
          set((s) => (s.hub ? { hub: { ...s.hub, files: { ...s.hub.files, [p.file]: p }, order: s.hub.order.includes(p.file) ? s.hub.order : [...s.hub.order, p.file] } } : {}));
          break;
        }
      }
    };
    client.onEvent(onEvent);
    const errText = (e: unknown) => (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e));
    const afterModel = async (p: Promise<ModelInfo>) => {
      set({ model: { status: 'loading' }, data: { status: 'idle' }, estimate: undefined, loadProgress: undefined });
      try {
        const info = await p;
        set((s) => ({ model: { status: 'ready', value: info }, settings: { ...s.settings, targetModules: initialTargets(info) } }));
      } catch (e) {
        set({ model: { status: 'error', error: errText(e) } });
      }
    };
    const afterData = async (p: Promise<DataPreview>) => {
      set({ data: { status: 'loading' } });
      try {
        set({ data: { status: 'ready', value: await p } });
        void refreshEstimate();
      } catch (e) {
        set({ data: { status: 'error', error: errText(e) } });
      }
    };
    // Settings can change while an estimate or a step timing is in flight (the profile switches to quick
    // once the device is known; a user types): only the answers to the latest request are shown, and a
    // new estimate clears the timing of the old shape, so size and timing always describe the same run.
    let estimateSeq = 0;
    const refreshEstimate = async () => {
      const seq = ++estimateSeq;
      const latest = () => seq === estimateSeq;
      const body = { config: cleanConfig(get().settings), profile: get().profile };
      let estimate: MemoryEstimate;
      try { estimate = await client.request('estimate', body); } catch { if (latest()) set({ estimate: undefined, timing: undefined }); return; }
      if (!latest()) return;
      set({ estimate, timing: undefined, timingNote: undefined });
      // The step timing follows the estimate (it needs the engine: a few seconds on a CPU adapter).
      try {
        const timing = await client.request('time-step', body);
        if (latest()) set({ timing, timingNote: undefined });
      } catch (e) {
        if (latest()) set({ timing: undefined, timingNote: errText(e) });
      }
    };
    return {
      model: { status: 'idle' }, data: { status: 'idle' },
      profile: 'full', profileChosen: false, exporting: {},
      settings: { method: DEFAULT_METHOD, r: 8, epochs: 4, seed: 42 },
      ...restored,
      client,
      async loadDemo(name) {
        await afterModel(client.request('load-model', { source: { kind: 'demo', name } }));
        if (get().model.status === 'ready') await afterData(client.request('load-data', { source: { kind: 'demo' }, seqLen: get().settings.seqLen ?? demoSeqLen(get()) }));
      },
      async loadModelFiles(files, label) {
        // The File objects themselves (disk-backed; structured clone copies no bytes): the worker reads them
        // tensor by tensor through File.slice, so a model larger than a JS buffer loads.
        await afterModel(client.request('load-model', { source: { kind: 'files', label, files } }));
      },
      async loadHub(repo, revision, token) {
        set({ hub: { repo, active: true, files: {}, order: [] } });
        try {
          await afterModel(client.request('load-model', { source: { kind: 'hub', repo, revision, ...(token ? { token } : {}) } }));
        } finally {
          set((s) => (s.hub ? { hub: { ...s.hub, active: false } } : {}));
        }
      },
      async cancelHub() {
        await client.request('cancel-load', {});
      },
      async loadDataFiles(files, label) {
        if (get().model.value?.kind !== 'vit') { // GPT-2 and Llama-family models train on one text or chat file
          const f = files[0];
          if (!f) return;
          const bytes = await f.arrayBuffer();
          await afterData(client.request('load-data', { source: { kind: 'text', name: f.name, bytes }, seqLen: get().settings.seqLen ?? 64 }, [bytes]));
        } else {
          const payload = await Promise.all(files.map(async (f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, bytes: await f.arrayBuffer() })));
          await afterData(client.request('load-data', { source: { kind: 'images', label, files: payload }, seqLen: 0 }, payload.map((f) => f.bytes)));
        }
      },
      setSettings(patch) {
        set((s) => ({ settings: { ...s.settings, ...patch } }));
        if (get().data.status === 'ready') void refreshEstimate();
      },
      setProfile(profile) {
        set({ profile, profileChosen: true });
        if (get().data.status === 'ready') void refreshEstimate();
      },
      setMatmulGflops(g) {
        set({ matmulGflops: g });
      },
      async train(overrides = {}) {
        const config = cleanConfig({ ...get().settings, ...overrides });
        const id = `run${Date.now().toString(36)}${++runCounter}`;
        const size = get().estimate?.size;
        set((s) => ({ runs: { ...s.runs, [id]: { id, label: runLabel(config), config, state: 'queued', steps: [], evals: [], iterations: [], warnings: [], ...(size ? { size } : {}) } }, order: [...s.order, id] }));
        try {
          await client.request('start', { runId: id, config, profile: get().profile });
          return id;
        } catch (e) {
          updateRun(id, (r) => ({ ...r, state: 'error', message: errText(e) }));
          return undefined;
        }
      },
      async compare(methods) {
        for (const method of methods) await get().train({ method });
      },
      async control(runId, action) {
        try { await client.request('control', { runId, action }); } catch (e) { updateRun(runId, (r) => ({ ...r, warnings: [...r.warnings, errText(e)] })); }
      },
      async resumeRun(runId) {
        try { await client.request('resume', { runId }); } catch (e) { updateRun(runId, (r) => ({ ...r, warnings: [...r.warnings, `resume failed: ${errText(e)}`] })); }
      },
      async exportRun(runId, what, options = {}) {
        set((s) => ({ exporting: { ...s.exporting, [runId]: { what, since: Date.now() } } }));
        try {
          const reply = await client.request('export', { runId, what, ...options });
          set({ lastExport: { runId, what, fileName: reply.fileName, parity: reply.parity, note: reply.note, mergeCheck: reply.mergeCheck, rounding: reply.rounding, written: reply.written } });
          return reply;
        } catch (e) {
          updateRun(runId, (r) => ({ ...r, warnings: [...r.warnings, `export failed: ${errText(e)}`] }));
          return undefined;
        } finally {
          set((s) => ({ exporting: Object.fromEntries(Object.entries(s.exporting).filter(([k]) => k !== runId)) }));
        }
      },
      async resetDevice() {
        await client.request('reset-device', {});
        set({ deviceLost: undefined });
      },
      clearHistory() {
        const live = get().order.filter((id) => !get().runs[id].archived);
        set((s) => ({ order: live, runs: Object.fromEntries(live.map((id) => [id, s.runs[id]])) }));
        save(get());
      },
    };
  });
  // The run size follows the adapter: a CPU implementation (SwiftShader, llvmpipe) gets the quick preset.
  void client.request('device', {}).then((device) => {
    store.setState((s) => ({ device, profile: s.profileChosen ? s.profile : device.software ? 'quick' : 'full' }));
    if (store.getState().data.status === 'ready') void store.getState().setSettings({});
  }, (e: unknown) => store.setState({ device: { adapter: `no WebGPU device: ${e instanceof Error ? e.message : String(e)}`, software: false, evidence: '' } }));
  // Runs a reload (or a crash) interrupted: their checkpoints are in OPFS; offer to resume them (E1).
  void client.request('unfinished', {}).then((list) => {
    if (list.length === 0) return;
    store.setState((s) => ({
      runs: { ...s.runs, ...Object.fromEntries(list.map((u) => [u.runId, unfinishedView(u, s.runs[u.runId])])) },
      order: [...s.order, ...list.map((u) => u.runId).filter((id) => !s.runs[id])],
    }));
  }, () => undefined);
  return store;
}

let studioStore: StoreApi<StudioState> | undefined;

export function getStudioStore(): StoreApi<StudioState> {
  studioStore ??= createStudioStore(
    () => new Worker(new URL('../worker/training.worker.ts', import.meta.url), { type: 'module' }),
    import.meta.env.BASE_URL,
  );
  return studioStore;
}

export const useStudio = <T,>(selector: (s: StudioState) => T): T => useStore(getStudioStore(), selector);
