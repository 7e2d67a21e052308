// App state (zustand): the engine self-check (the Device panel: adapter, limits, f16, matmul speed and
// the kernel check). Worker messages land only in actions here; components read narrow selectors.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { SelfCheckResult } from '../worker/selfcheck';
import type { SelfCheckMessage } from '../worker/selfcheck.worker';

export interface AppState {
  selfCheck: { status: 'idle' | 'running' | 'done' | 'error'; result?: SelfCheckResult; error?: string };
  startSelfCheck: () => void;
}

export interface Workers {
  selfCheck: () => Worker;
}

const defaultWorkers: Workers = {
  selfCheck: () => new Worker(new URL('../worker/selfcheck.worker.ts', import.meta.url), { type: 'module' }),
};

export function createAppStore(workers: Workers = defaultWorkers) {
  return createStore<AppState>()((set) => ({
    selfCheck: { status: 'idle' },
    startSelfCheck: () => {
      set({ selfCheck: { status: 'running' } });
      const worker = workers.selfCheck();
      worker.onmessage = (e: MessageEvent<SelfCheckMessage>) => {
        const msg = e.data;
        set({ selfCheck: msg.type === 'result'
          ? { status: 'done', result: msg.value }
          : { status: 'error', error: `${msg.error.name}: ${msg.error.message}` } });
        worker.terminate();
      };
      worker.onerror = (e) => set({ selfCheck: { status: 'error', error: e.message || 'worker failed to start' } });
    },
  }));
}

export const appStore = createAppStore();
export const useAppStore = <T,>(selector: (s: AppState) => T): T => useStore(appStore, selector);
