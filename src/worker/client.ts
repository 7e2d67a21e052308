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
    worker.onerror = (e) => {
      const err = new Error(`the training worker failed: ${e.message || 'unknown error'}`);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
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
