// The studio's training worker: owns the GPU device and the Studio session; every request gets one
// reply with its id; events stream in between. ArrayBuffers in replies are transferred, not copied.
import { type Request, type WorkerMessage, serializeError } from './protocol';
import { RequestOrder } from './requests';
import { Studio } from './studio';

const post = (m: WorkerMessage, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
// The page's base URL arrives with the first message; demo files are fetched from it (same origin).
let order: RequestOrder | undefined;

self.onmessage = (e: MessageEvent<{ base: string; request: Request }>) => {
  const { base, request } = e.data;
  // Served in arrival order, with the exceptions ./requests.ts names (a step timing gives way to the user).
  order ??= new RequestOrder(new Studio(base, (event) => post({ type: 'event', event })));
  order.serve(request).then(
    (value) => {
      const bytes = (value as { bytes?: unknown } | undefined)?.bytes;
      post({ type: 'result', id: request.id, value }, bytes instanceof ArrayBuffer ? [bytes] : []);
    },
    (err: unknown) => post({ type: 'error', id: request.id, error: serializeError(err) }),
  );
};
