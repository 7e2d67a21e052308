// App state (zustand): the engine self-check and the demo playground. Worker messages land only in
// actions here; components read narrow selectors.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { SelfCheckResult } from '../worker/selfcheck';
import type { SelfCheckMessage } from '../worker/selfcheck.worker';
import type { GenerateReply, GenerateRequest } from '../worker/playground';
import type { PlaygroundReply, PlaygroundRequest } from '../worker/playground.worker';

export interface PlaygroundState {
  status: 'idle' | 'running' | 'done' | 'error';
  reply?: GenerateReply;
  prompt?: string;
  error?: string;
}

export interface AppState {
  selfCheck: { status: 'idle' | 'running' | 'done' | 'error'; result?: SelfCheckResult; error?: string };
  playground: PlaygroundState;
  startSelfCheck: () => void;
  generate: (request: GenerateRequest) => void;
}

export interface Workers {
  selfCheck: () => Worker;
  playground: () => Worker;
}

const defaultWorkers: Workers = {
  selfCheck: () => new Worker(new URL('../worker/selfcheck.worker.ts', import.meta.url), { type: 'module' }),
  playground: () => new Worker(new URL('../worker/playground.worker.ts', import.meta.url), { type: 'module' }),
};

export function createAppStore(workers: Workers = defaultWorkers, base = import.meta.env.BASE_URL) {
  let playgroundWorker: Worker | undefined; // kept: the model stays loaded between requests
  let nextId = 0;
  return createStore<AppState>()((set) => ({
    selfCheck: { status: 'idle' },
    playground: { status: 'idle' },
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
    generate: (request) => {
      playgroundWorker ??= workers.playground();
      const id = ++nextId;
      set({ playground: { status: 'running', prompt: request.prompt } });
      playgroundWorker.onmessage = (e: MessageEvent<PlaygroundReply>) => {
        const msg = e.data;
        if (msg.id !== nextId) return; // a newer request superseded this one
        set({ playground: msg.type === 'result'
          ? { status: 'done', prompt: request.prompt, reply: msg.value }
          : { status: 'error', prompt: request.prompt, error: `${msg.error.name}: ${msg.error.message}` } });
      };
      playgroundWorker.onerror = (e) => set({ playground: { status: 'error', error: e.message || 'worker failed' } });
      playgroundWorker.postMessage({ id, base, request } satisfies PlaygroundRequest);
    },
  }));
}

export const appStore = createAppStore();
export const useAppStore = <T,>(selector: (s: AppState) => T): T => useStore(appStore, selector);
