// Where per-device kernel choices are kept: one record per (adapter, kernel, shape class), so a device
// that chose once keeps its kernels across reloads and runs (docs/kernels.md#selection). The page keeps
// them in the origin's storage (OPFS in a worker, localStorage in a window); Node keeps them in memory.
import type { Choice } from './autotune';

export interface TuneStore {
  get(key: string): Promise<Choice | undefined>;
  set(key: string, choice: Choice): Promise<void>;
}

/** Bump when variants change meaning, so stored choices from older code are not reused. */
export const TUNE_FORMAT = 1;

export class MemoryTuneStore implements TuneStore {
  readonly records = new Map<string, Choice>();
  async get(key: string) {
    return this.records.get(key);
  }
  async set(key: string, choice: Choice) {
    this.records.set(key, choice);
  }
}

const FILE = 'lorasc-kernel-choices.json';

type Records = Record<string, Choice>;

/** One JSON object of records, read once, written back whole on each new choice. */
abstract class JsonTuneStore implements TuneStore {
  private cache: Promise<Records> | undefined;
  protected abstract read(): Promise<string | null>;
  protected abstract write(text: string): Promise<void>;

  private all(): Promise<Records> {
    this.cache ??= this.read().then((t) => {
      try {
        const parsed = t ? (JSON.parse(t) as { format?: number; records?: Records }) : undefined;
        return parsed?.format === TUNE_FORMAT && parsed.records ? parsed.records : {};
      } catch {
        return {}; // a damaged file only costs a re-tune
      }
    }).catch(() => ({}));
    return this.cache;
  }

  async get(key: string) {
    return (await this.all())[key];
  }

  async set(key: string, choice: Choice) {
    const records = await this.all();
    records[key] = choice;
    // Storage can be full or refused (private windows): the choice still holds for this session.
    await this.write(JSON.stringify({ format: TUNE_FORMAT, records })).catch(() => undefined);
  }
}

export class LocalStorageTuneStore extends JsonTuneStore {
  constructor(private readonly storage: Storage) {
    super();
  }
  protected async read() {
    return this.storage.getItem(FILE);
  }
  protected async write(text: string) {
    this.storage.setItem(FILE, text);
  }
}

class OpfsTuneStore extends JsonTuneStore {
  constructor(private readonly root: () => Promise<FileSystemDirectoryHandle>) {
    super();
  }
  protected async read() {
    try {
      const file = await (await (await this.root()).getFileHandle(FILE)).getFile();
      return await file.text();
    } catch {
      return null;
    }
  }
  protected async write(text: string) {
    const handle = await (await this.root()).getFileHandle(FILE, { create: true });
    const w = await handle.createWritable();
    await w.write(text);
    await w.close();
  }
}

type Bridge = (op: 'read' | 'write', text?: string) => Promise<string | null>;

/** The CLI's file, reached through a function the CLI exposes to its page (src/cli/kernelChoices.ts). */
class BridgeTuneStore extends JsonTuneStore {
  constructor(private readonly bridge: Bridge) {
    super();
  }
  protected read() {
    return this.bridge('read');
  }
  protected async write(text: string) {
    await this.bridge('write', text);
  }
}

/** The CLI's file where the page runs under the CLI, else the origin's storage (OPFS, else localStorage), else memory. */
export function defaultTuneStore(): TuneStore {
  const g = globalThis as { navigator?: Navigator; window?: { localStorage?: Storage }; lorascKernelChoices?: Bridge };
  if (typeof g.lorascKernelChoices === 'function') return new BridgeTuneStore(g.lorascKernelChoices);
  const storage = g.navigator?.storage as (StorageManager & { getDirectory?: () => Promise<FileSystemDirectoryHandle> }) | undefined;
  if (storage?.getDirectory) return new OpfsTuneStore(() => storage.getDirectory!());
  if (g.window?.localStorage) return new LocalStorageTuneStore(g.window.localStorage);
  return new MemoryTuneStore();
}
