// Issue 13, the studio run that stayed 'queued' for 19 minutes: the worker serves requests one at a time
// (src/worker/requests.ts), and the step-timing probe the settings panel asks for (src/worker/stepTiming.ts)
// took minutes per step at the real 151,936-row vocabulary on SwiftShader, so a started run waited behind it.
// Here, on a tiny Qwen3 through the worker's own request order: a start ends a timing queued before it and a
// timing already on the GPU (at its next engine call; both reply 'not timed: a run was started'; the run's row
// says what it waits for), and the run is served and trains; a timing nobody superseded still measures.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { Request, StudioEvent } from '../../../src/worker/protocol';
import { RequestOrder } from '../../../src/worker/requests';
import { Studio } from '../../../src/worker/studio';
import { llamaConfig, llamaFolder, llamaTensors, shapeOf } from '../../node/hfModel/llamaFixtures';

type Body = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

describe('studio: a step timing gives way to a started run', () => {
  it('ends queued and in-flight timings when a run starts; the run trains', async () => {
    const files = llamaFolder(llamaConfig('qwen3', { vocab_size: 1025, eos_token_id: 1024, bos_token_id: null }), llamaTensors(shapeOf('qwen3', { V: 1025 })));
    const tokenizer = await (await fetch('/demo/gpt2-fortunes/tokenizer.json')).arrayBuffer();
    const bytes = (x: Uint8Array | string) => (typeof x === 'string' ? new TextEncoder().encode(x) : x).slice().buffer as ArrayBuffer;
    const events: StudioEvent[] = [];
    const studio = new Studio('/', (e) => events.push(e));
    const order = new RequestOrder(studio);
    let id = 0;
    const serve = (r: Body) => order.serve({ ...r, id: ++id } as Request);
    await serve({ type: 'load-model', source: { kind: 'files', label: 'qwen3-tiny', files: [...[...files].map(([name, x]) => ({ name, bytes: bytes(x) })), { name: 'tokenizer.json', bytes: tokenizer }] } });
    const text = Array.from({ length: 24 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n');
    await serve({ type: 'load-data', source: { kind: 'text', name: 'notes.txt', bytes: bytes(text) }, seqLen: 8 });
    const shape = (seqLen: number) => ({ method: 'lora' as const, r: 2, maxSteps: 1, seqLen, batchSize: 1, evalExamples: 1, lr: 1e-2 });

    // Unsuperseded, a timing measures (the probe still works).
    const measured = (await serve({ type: 'time-step', config: shape(8), profile: 'full' })) as { stepMs: number; evalBatchMs: number };
    expect(measured.stepMs).toBeGreaterThan(0);
    expect(measured.evalBatchMs).toBeGreaterThan(0);

    // A timing on the GPU when the start arrives: the start is sent from inside the probe's first queue
    // submission, so the probe is certainly in flight; it ends at its next engine call.
    await serve({ type: 'device' });
    const ctx = (studio as unknown as { ctx: GpuContext }).ctx;
    const queue = ctx.device.queue, submit = queue.submit.bind(queue);
    let started: Promise<unknown> | undefined;
    queue.submit = (buffers) => {
      started ??= serve({ type: 'start', runId: 'a', config: shape(8), profile: 'full' });
      return submit(buffers);
    };
    const inFlight = serve({ type: 'time-step', config: shape(6), profile: 'full' });
    await expect(inFlight).rejects.toThrow('not timed: a run was started');
    queue.submit = submit;
    expect(started, 'the probe submitted GPU work before the start').toBeDefined();
    expect(await started).toEqual({ queued: 1 });
    // While it waited, its row said for what.
    expect(events.find((e) => e.kind === 'run-state' && e.runId === 'a')).toMatchObject({ state: 'queued', message: expect.stringMatching(/^waiting for the step timing/) });
    await settled(events, 'a');

    // A timing still queued when the start arrives ends without touching the GPU; the start is served.
    const queued = serve({ type: 'time-step', config: shape(4), profile: 'full' });
    const start = serve({ type: 'start', runId: 'b', config: shape(8), profile: 'full' });
    await expect(queued).rejects.toThrow('not timed: a run was started');
    expect(await start).toEqual({ queued: 1 });
    expect(events.filter((e) => e.kind === 'run-state' && e.runId === 'b' && e.message)).toEqual([]); // nothing was on the GPU
    await settled(events, 'b');
  });
});

/** Waits for the run's last state and expects 'done'. */
async function settled(events: StudioEvent[], runId: string): Promise<void> {
  const last = () => events.filter((e): e is Extract<StudioEvent, { kind: 'run-state' }> => e.kind === 'run-state' && e.runId === runId).pop();
  for (let t = 0; !['done', 'error', 'stopped', 'interrupted'].includes(last()?.state ?? ''); t += 50) {
    if (t > 120_000) throw new Error(`run ${runId} did not end; last events ${JSON.stringify(events.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(last()?.state, last()?.message).toBe('done');
}
