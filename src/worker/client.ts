// The UI thread's proxy for the training worker: one promise per request (matched by id), and a
// subscription for the event stream. Nothing here waits on the GPU.
import type { ReplyValue, Request, RequestType, SerializedError, StudioEvent, WorkerMessage } from './protocol';

type Body<T extends RequestType> = Omit<Extract<Request, { type: T }>, 'id' | 'type'>;

export class WorkerError extends Error {
  readonly code?: string;
  constructor(e: SerializedError) {
    super(e.message + (e.cause ? ` (cause: ${e.cause})` : ''));
    this.name = e.name;
    this.code = e.code;
  }
}

export class StudioClient {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(e: StudioEvent) => void>();

  constructor(private readonly worker: Worker, private readonly base: string) {
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === 'event') { for (const l of this.listeners) l(m.event); return; }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.type === 'result') w.resolve(m.value);
      else w.reject(new WorkerError(m.error));
    };
    // An uncaught error in the worker, or the worker killed (out of memory: the browser ends it without a
    // message): every pending request fails and listeners hear one 'worker-failed' line with the likely cause.
    worker.onerror = (e) => {
      e.preventDefault?.();
      const message = workerFailure(e.message);
      const err = new Error(message);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      for (const l of this.listeners) l({ kind: 'worker-failed', message });
    };
  }

  onEvent(listener: (e: StudioEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  request<T extends RequestType>(type: T, body: Body<T>, transfer: Transferable[] = []): Promise<ReplyValue[T]> {
    const id = ++this.nextId;
    const request = { id, type, ...body } as unknown as Request;
    return new Promise<ReplyValue[T]>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ base: this.base, request }, transfer);
    });
  }
}

/** One line: what happened to the worker and the likely cause. */
export function workerFailure(detail: string | undefined): string {
  const d = (detail ?? '').replace(/^Uncaught\s+/, '').trim();
  const memory = d === '' || /memory|allocation|RangeError: Array buffer/i.test(d);
  return `the training worker stopped${d ? ` (${d})` : ' without a message'}${memory ? '; likely cause: the page ran out of memory (try a smaller batch or sequence length, or a smaller model)' : ''}`;
}
