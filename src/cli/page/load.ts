// Loading a model folder in the CLI's engine page: streamed through the bridge's byte ranges
// (src/cli/page/bridge.ts openRange), with a load progress line (bytes, MB/s, ETA) and a closing status
// line that says how it was read (reads and the largest single one: never the whole file), sent when the
// last tensor has been read (during engine creation for a decoder).
import { type LoadedModel, type LoadOptions, loadModelDir } from '../../io/hfModel';
import type { CliEvent, DirRef } from '../jobs';
import { bridgeReadStats, dirSource } from './bridge';

export async function loadModel(dir: DirRef, emit: (e: CliEvent) => void, options: LoadOptions = {}): Promise<LoadedModel> {
  const before = { ...bridgeReadStats };
  const t0 = performance.now();
  // A decoder's tensors are read when the engine uploads them (src/model/frozen.ts), after this returns:
  // the closing line comes with the last tensor's first read, whenever that is.
  const summary = () => {
    const bytes = bridgeReadStats.bytesRead - before.bytesRead;
    const s = (performance.now() - t0) / 1000;
    const mb = bytes / 1e6;
    emit({
      type: 'status',
      message: `loaded ${mb.toFixed(1)} MB of weights in ${s.toFixed(1)} s (${(mb / Math.max(s, 1e-3)).toFixed(1)} MB/s; ${bridgeReadStats.reads - before.reads} reads, largest ${(bridgeReadStats.maxRead / 1e6).toFixed(1)} MB)`,
    });
  };
  return loadModelDir(dirSource(dir), {
    ...options,
    onProgress: (p) => {
      emit({ type: 'load', bytes: p.bytes, total: p.totalBytes, elapsedMs: p.elapsedMs });
      if (p.bytes === p.totalBytes) summary();
    },
  });
}

/** The bridge's read counters, for a job's result (the >2 GB test checks them). */
export const loadStats = () => ({ bytes_read: bridgeReadStats.bytesRead, reads: bridgeReadStats.reads, max_read: bridgeReadStats.maxRead });
