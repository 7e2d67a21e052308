// Dedicated worker that owns the GPU device for the self-check; the UI thread never waits on the GPU.
import { runSelfCheck } from './selfcheck';

export type SelfCheckMessage =
  | { type: 'result'; value: Awaited<ReturnType<typeof runSelfCheck>> }
  | { type: 'error'; error: { name: string; message: string } };

runSelfCheck().then(
  (value) => postMessage({ type: 'result', value } satisfies SelfCheckMessage),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    postMessage({ type: 'error', error: { name: err.name, message: err.message } } satisfies SelfCheckMessage);
  },
);
