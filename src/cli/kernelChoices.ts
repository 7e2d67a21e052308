// The CLI's memory of per-device kernel choices (docs/kernels.md#selection). Each CLI run opens a fresh
// browser on a new port, so the page's own storage (per origin) starts empty every time; the page reaches
// this file instead, through a function exposed to it, so a device keeps its kernels from run to run
// (a resumed run continues bit-identically). Only timed choices are written: on SwiftShader nothing is.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** $LORASC_CACHE_DIR, else $XDG_CACHE_HOME/lorasc, else ~/.cache/lorasc. */
export function kernelChoicesPath(): string {
  const dir = process.env.LORASC_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lorasc');
  return join(dir, 'kernel-choices.json');
}

/** The function the page calls as `lorascKernelChoices(op, text)` (src/gpu/tuneStore.ts, BridgeTuneStore). */
export function kernelChoicesBridge(path = kernelChoicesPath()) {
  return async (op: 'read' | 'write', text?: string): Promise<string | null> => {
    try {
      if (op === 'read') return readFileSync(path, 'utf8');
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text ?? '');
    } catch {
      // Missing or unwritable: the choices then last for this run only.
    }
    return null;
  };
}
