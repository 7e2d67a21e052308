// The order in which the training worker serves requests. They run one after another in arrival order (a
// data file dropped while its model still loads must see that model; two GPU jobs never interleave), except
// pause/resume/stop and cancelling a download, which never wait behind anything. A step timing is a
// background measurement (minutes at a real vocabulary on a CPU adapter): every request the user made, as it
// arrives, ends the timings queued before it (they reply 'not timed: <why>') and the one in flight at its
// next engine call, so a started run waits for at most one engine call of a probe, never for whole probes.
import type { Request } from './protocol';
import type { Studio } from './studio';

/** One request served by the studio session. */
async function handle(r: Request, s: Studio, signal: AbortSignal | undefined): Promise<unknown> {
  switch (r.type) {
    case 'load-model': return s.loadModel(r.source);
    case 'load-data': return s.loadData(r.source, r.seqLen);
    case 'device': return s.deviceInfo();
    case 'estimate': return s.estimate(r.config, r.profile);
    case 'time-step': return s.timeStep(r.config, r.profile, signal);
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

/** Why an arriving request ends the step timing in flight; undefined: it leaves it alone. */
function supersedes(r: Request): string | undefined {
  switch (r.type) {
    case 'start': return 'a run was started';
    case 'resume': return 'a run was resumed';
    case 'estimate': return 'the settings changed';
    case 'load-model': return 'another model is loading';
    case 'load-data': return 'other data is loading';
    case 'export': return 'an export asked for the GPU';
    case 'generate': case 'classify': return 'the playground asked for the GPU';
    case 'reset-device': return 'the device is being reset';
    default: return undefined; // time-step, device, unfinished, control, cancel-load
  }
}

export class RequestOrder {
  private chain: Promise<unknown> = Promise.resolve();
  /** The step timings that have arrived and not replied yet (queued or in flight), and the one on the GPU. */
  private readonly timings = new Set<AbortController>();
  private probing: AbortController | undefined;

  constructor(private readonly studio: Studio) {}

  serve(r: Request): Promise<unknown> {
    if (r.type === 'control' || r.type === 'cancel-load') return handle(r, this.studio, undefined);
    const why = supersedes(r);
    if (why) for (const t of this.timings) t.abort(why);
    // The run's row says what it waits for, rather than a bare 'queued'.
    if ((r.type === 'start' || r.type === 'resume') && this.probing) this.studio.waiting(r.runId, 'waiting for the step timing on the GPU to stop (it ends after its current GPU call)');
    const timing = r.type === 'time-step' ? new AbortController() : undefined;
    if (timing) this.timings.add(timing);
    const p = this.chain.then(() => {
      this.probing = timing;
      return handle(r, this.studio, timing?.signal).finally(() => { this.probing = undefined; });
    });
    this.chain = p.catch(() => undefined);
    return timing ? p.finally(() => this.timings.delete(timing)) : p;
  }
}
