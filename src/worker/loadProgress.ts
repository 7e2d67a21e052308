// The load progress bar's events (issue 13 item 1): a folder's weights read tensor by tensor through
// File.slice (loadModelDir's onProgress), and a Hub download file by file, both as bytes of a total with the
// time so far, so the page shows one bar with MB/s and an ETA. Events are thinned to one per PROGRESS_MS
// (a checkpoint can hold thousands of small tensors), the last one always sent.
import type { LoadProgress } from '../io/hfModel';
import type { HubProgress } from '../io/hub';
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
  return (p) => send({ source: 'files', bytes: p.bytes, totalBytes: p.totalBytes, item: p.tensor, elapsedMs: p.elapsedMs, done: p.bytes >= p.totalBytes });
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
    send({ source: 'hub', bytes, totalBytes, item: p.file, elapsedMs: performance.now() - t0, done });
  };
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
