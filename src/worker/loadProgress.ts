// The load progress bar's events (issue 13 item 1): a Hub download file by file; a streamed load's headers
// (a model folder: "Load" reads only those, the weights stay on disk); the weights going to the GPU tensor
// by tensor whenever an engine is built from a streamed model (UploadProgress: a run's start, the
// step-timing probe, generation, the export's parity check — each reads every tensor once through
// File.slice); and a load that reads every tensor at once (LoadOptions.keepTensors: loadModelDir's
// onProgress). Each is bytes of a total with the time so far, so the page shows one bar with MB/s, an ETA
// and the current tensor.
// Events are thinned to one per PROGRESS_MS (a checkpoint can hold thousands of small tensors), the last
// one always sent.
import type { LoadedModel, LoadProgress } from '../io/hfModel';
import type { HubProgress } from '../io/hub';
import { isStreamed, type StreamedTensor } from '../io/safetensors';
import type { LoadProgressView } from './protocol';

export const PROGRESS_MS = 100;

function thinned(emit: (p: LoadProgressView) => void): (p: LoadProgressView) => void {
  let last = -Infinity;
  return (p) => {
    const now = performance.now();
    if (!p.done && now - last < PROGRESS_MS) return;
    last = now;
    emit(p);
  };
}

/** loadModelDir's onProgress → the bar (done once every byte the engine needs was read). */
export function tensorLoadProgress(emit: (p: LoadProgressView) => void): (p: LoadProgress) => void {
  const send = thinned(emit);
  return (p) => send({ source: 'files', phase: 'read', bytes: p.bytes, totalBytes: p.totalBytes, item: p.tensor, elapsedMs: p.elapsedMs, done: p.bytes >= p.totalBytes });
}

/** A Hub download's per-file progress → one bar over every file whose size is known. */
export function hubLoadProgress(emit: (p: LoadProgressView) => void): (p: HubProgress) => void {
  const send = thinned(emit);
  const files = new Map<string, HubProgress>();
  const t0 = performance.now();
  return (p) => {
    files.set(p.file, p);
    let bytes = 0, totalBytes = 0;
    for (const f of files.values()) { bytes += f.loaded; totalBytes += f.total ?? f.loaded; }
    const done = [...files.values()].every((f) => f.state !== 'downloading');
    send({ source: 'hub', phase: 'download', bytes, totalBytes, item: p.file, elapsedMs: performance.now() - t0, done });
  };
}

/** The canonical tensors of a model that are still on disk: what an engine build reads (and uploads) once each. */
export function onDiskTensors(loaded: LoadedModel): StreamedTensor[] {
  return [...loaded.tensors.values()].filter((t): t is StreamedTensor => isStreamed(t) && !t.resident);
}

/** A streamed load's bar once its headers are read: the weights' size, none of it read yet. */
export function headersProgress(tensors: readonly StreamedTensor[], elapsedMs: number): LoadProgressView {
  const totalBytes = tensors.reduce((n, t) => n + t.byteLength, 0);
  return { source: 'files', phase: 'headers', bytes: 0, totalBytes, item: `${tensors.length} tensors`, elapsedMs, done: true };
}

/**
 * The weights of a streamed model going to the GPU. Every on-disk tensor reports its reads (onRead); inside
 * `during` (an engine build) each first read of a tensor is progress — bytes of the model's total, the tensor,
 * the time since the build began. A build that reads a tensor a second time has started another pass (the
 * parity check builds two engines): the count starts over. Reads outside a build (the final merge, the run
 * fingerprint, an export) are not uploads and are not shown here.
 */
export class UploadProgress {
  private active: { purpose: string; t0: number; bytes: number; seen: Set<StreamedTensor>; send: (p: LoadProgressView) => void } | undefined;
  private tensors: readonly StreamedTensor[] = [];
  private totalBytes = 0;

  constructor(tensors: readonly StreamedTensor[], private readonly emit: (p: LoadProgressView) => void) {
    this.watch(tensors);
  }

  /** Follows these tensors' reads from now on (the model, or a ViT loaded again with a new head during a build). */
  watch(tensors: readonly StreamedTensor[]): void {
    if (tensors.length === 0) return;
    this.tensors = tensors;
    this.totalBytes = tensors.reduce((n, t) => n + t.byteLength, 0);
    for (const t of tensors) t.onRead = (read) => this.read(read);
  }

  /** Runs an engine build with the bar showing its reads; the last event says done (or how far it got). */
  async during<T>(purpose: string, build: () => Promise<T>): Promise<T> {
    if (this.tensors.length === 0 || this.active) return build(); // in memory (nothing to show), or nested
    const a = { purpose, t0: performance.now(), bytes: 0, seen: new Set<StreamedTensor>(), send: thinned(this.emit) };
    this.active = a;
    this.emit(this.view(a, this.tensors[0].name, false));
    let failed = true;
    try {
      const built = await build();
      failed = false;
      return built;
    } finally {
      this.active = undefined;
      // The last word: done, or stopped where the build ended (it failed, or the timing probe gave way).
      this.emit({ ...this.view(a, [...a.seen].pop()?.name ?? '', true), ...(failed ? { stopped: true } : {}) });
    }
  }

  private read(t: StreamedTensor): void {
    const a = this.active;
    if (!a) return;
    if (a.seen.has(t)) { a.seen.clear(); a.bytes = 0; a.t0 = performance.now(); }
    a.seen.add(t);
    a.bytes += t.byteLength;
    a.send(this.view(a, t.name, false));
  }

  private view(a: NonNullable<UploadProgress['active']>, item: string, done: boolean): LoadProgressView {
    return { source: 'files', phase: 'upload', purpose: a.purpose, bytes: a.bytes, totalBytes: this.totalBytes, item, elapsedMs: performance.now() - a.t0, done };
  }
}

/** "12.3 / 498.0 MB · 41.2 MB/s · 0:11 left": what the bar's label says. */
export function progressLine(p: Pick<LoadProgressView, 'bytes' | 'totalBytes' | 'elapsedMs'>): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const rate = p.elapsedMs > 0 ? p.bytes / (p.elapsedMs / 1000) : 0;
  const left = rate > 0 ? (p.totalBytes - p.bytes) / rate : NaN;
  const t = Math.round(left);
  const eta = Number.isFinite(left) ? `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')} left` : 'time left unknown';
  return `${mb(p.bytes)} / ${mb(p.totalBytes)} MB · ${rate > 0 ? `${(rate / 1e6).toFixed(1)} MB/s` : '— MB/s'} · ${p.bytes >= p.totalBytes ? 'done' : eta}`;
}
