// Loading a model folder in the CLI's engine page: streamed through the bridge's byte ranges
// (src/cli/page/bridge.ts openRange), with a load progress line (bytes, MB/s, ETA) and a closing status
// line that says how it was read (reads and the largest single one: never the whole file).
import { type LoadedModel, type LoadOptions, loadModelDir } from '../../io/hfModel';
import type { CliEvent, DirRef } from '../jobs';
import { bridgeReadStats, dirSource } from './bridge';

export async function loadModel(dir: DirRef, emit: (e: CliEvent) => void, options: LoadOptions = {}): Promise<LoadedModel> {
  const before = { ...bridgeReadStats };
  const t0 = performance.now();
  const loaded = await loadModelDir(dirSource(dir), {
    ...options,
    onProgress: (p) => emit({ type: 'load', bytes: p.bytes, total: p.totalBytes, elapsedMs: p.elapsedMs }),
  });
  const bytes = bridgeReadStats.bytesRead - before.bytesRead;
  const s = (performance.now() - t0) / 1000;
  const mb = bytes / 1e6;
  emit({
    type: 'status',
    message: `loaded ${mb.toFixed(1)} MB of weights in ${s.toFixed(1)} s (${(mb / Math.max(s, 1e-3)).toFixed(1)} MB/s; ${bridgeReadStats.reads - before.reads} reads, largest ${(bridgeReadStats.maxRead / 1e6).toFixed(1)} MB)`,
  });
  return loaded;
}

/** The bridge's read counters, for a job's result (the >2 GB test checks them). */
export const loadStats = () => ({ bytes_read: bridgeReadStats.bytesRead, reads: bridgeReadStats.reads, max_read: bridgeReadStats.maxRead });
