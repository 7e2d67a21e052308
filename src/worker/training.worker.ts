// The studio's training worker: owns the GPU device and the Studio session; every request gets one
// reply with its id; events stream in between. ArrayBuffers in replies are transferred, not copied.
import { type Request, type WorkerMessage, serializeError } from './protocol';
import { Studio } from './studio';

const post = (m: WorkerMessage, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
// The page's base URL arrives with the first message; demo files are fetched from it (same origin).
let studio: Studio | undefined;

async function handle(r: Request, s: Studio): Promise<unknown> {
  switch (r.type) {
    case 'load-model': return s.loadModel(r.source);
    case 'load-data': return s.loadData(r.source, r.seqLen);
    case 'device': return s.deviceInfo();
    case 'estimate': return s.estimate(r.config, r.profile);
    case 'time-step': return s.timeStep(r.config, r.profile);
    case 'start': return s.start(r.runId, r.config, r.profile);
    case 'control': return s.control(r.runId, r.action);
    case 'resume': return s.resume(r.runId);
    case 'unfinished': return s.unfinished();
    case 'export': return s.export(r.runId, r.what, r.dtype, r.target);
    case 'generate': return s.generate(r);
    case 'classify': return s.classify(r);
    case 'reset-device': return s.resetDevice();
    case 'cancel-load': return s.cancelLoad();
  }
}

// Requests run one after another in arrival order (a data file dropped while its model still loads
// must see that model), except pause/resume/stop and cancelling a download, which never wait behind anything. 'start' only
// queues its run, so a training run never blocks the requests that follow it.
let chain: Promise<unknown> = Promise.resolve();
function ordered(r: Request, s: Studio): Promise<unknown> {
  const p = chain.then(() => handle(r, s));
  chain = p.catch(() => undefined);
  return p;
}

self.onmessage = (e: MessageEvent<{ base: string; request: Request }>) => {
  const { base, request } = e.data;
  studio ??= new Studio(base, (event) => post({ type: 'event', event }));
  (request.type === 'control' || request.type === 'cancel-load' ? handle(request, studio) : ordered(request, studio)).then(
    (value) => {
      const bytes = (value as { bytes?: unknown } | undefined)?.bytes;
      post({ type: 'result', id: request.id, value }, bytes instanceof ArrayBuffer ? [bytes] : []);
    },
    (err: unknown) => post({ type: 'error', id: request.id, error: serializeError(err) }),
  );
};
