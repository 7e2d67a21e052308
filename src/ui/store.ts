// App state (zustand): the engine self-check's lifecycle. Worker messages land only in actions here.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { SelfCheckResult } from '../worker/selfcheck';

export interface AppState {
  selfCheck: { status: 'idle' | 'running' | 'done' | 'error'; result?: SelfCheckResult; error?: string };
  startSelfCheck: () => void;
}

export function createAppStore(spawn: () => Worker = defaultWorker) {
  return createStore<AppState>()((set) => ({
    selfCheck: { status: 'idle' },
    startSelfCheck: () => {
      set({ selfCheck: { status: 'running' } });
      const worker = spawn();
      worker.onmessage = (e: MessageEvent) => {
        const msg = e.data as import('../worker/selfcheck.worker').SelfCheckMessage;
        set({ selfCheck: msg.type === 'result'
          ? { status: 'done', result: msg.value }
          : { status: 'error', error: `${msg.error.name}: ${msg.error.message}` } });
        worker.terminate();
      };
      worker.onerror = (e) => set({ selfCheck: { status: 'error', error: e.message || 'worker failed to start' } });
    },
  }));
}

function defaultWorker(): Worker {
  return new Worker(new URL('../worker/selfcheck.worker.ts', import.meta.url), { type: 'module' });
}

export const appStore = createAppStore();
export const useAppStore = <T,>(selector: (s: AppState) => T): T => useStore(appStore, selector);
