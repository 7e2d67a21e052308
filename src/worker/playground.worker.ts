// Dedicated worker owning the playground's GPU device; requests carry an id, replies echo it.
import { type GenerateReply, type GenerateRequest, generateDemo } from './playground';

export type PlaygroundRequest = { id: number; base: string; request: GenerateRequest };
export type PlaygroundReply =
  | { id: number; type: 'result'; value: GenerateReply }
  | { id: number; type: 'error'; error: { name: string; message: string } };

self.onmessage = (e: MessageEvent<PlaygroundRequest>) => {
  const { id, base, request } = e.data;
  generateDemo(base, request).then(
    (value) => postMessage({ id, type: 'result', value } satisfies PlaygroundReply),
    (err: unknown) => {
      const x = err instanceof Error ? err : new Error(String(err));
      postMessage({ id, type: 'error', error: { name: x.name, message: x.message } } satisfies PlaygroundReply);
    },
  );
};
