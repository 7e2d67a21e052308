// The studio worker's side of exact resume (src/worker/studio.ts), driven directly in Chromium with the
// built-in demo GPT-2: checkpoints go to OPFS per run; a device loss mid-run fails the run
// (one line with the likely cause) keeping its last checkpoint, and reset-device + resume finishes it with the same log and
// merged weights as an uninterrupted run; after a "reload" (a new Studio on the same OPFS) the run is
// listed as unfinished, resumes from its checkpoint with its curves sent again, and also matches.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainResult } from '../../../src/train/trainer';
import type { StudioEvent } from '../../../src/worker/protocol';
import { Studio } from '../../../src/worker/studio';
import { expectBits } from './helpers';

const CONFIG = { method: 'lorasc' as const, maxSteps: 8, iterationSteps: 3, seqLen: 16, batchSize: 4, r: 2, checkpointEvery: 2, evalExamples: 4 };
const tag = Date.now().toString(36);

function session() {
  const events: StudioEvent[] = [];
  const studio = new Studio('/', (e) => events.push(e));
  const until = async (ok: () => boolean, what: string) => {
    for (let t = 0; !ok(); t += 50) {
      if (t > 90_000) throw new Error(`timed out waiting for ${what}; last events: ${JSON.stringify(events.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stateOf = (id: string) => events.filter((e): e is Extract<StudioEvent, { kind: 'run-state' }> => e.kind === 'run-state' && e.runId === id).pop();
  const lastStep = (id: string) => Math.max(0, ...events.flatMap((e) => (e.kind === 'metrics' && e.runId === id ? e.steps.map((p) => p.step) : [])));
  const finished = (id: string) => until(() => ['done', 'error', 'interrupted', 'stopped'].includes(stateOf(id)?.state ?? ''), `${id} to end`);
  const result = (id: string) => (studio as unknown as { runs: Map<string, { result?: TrainResult }> }).runs.get(id)?.result as TrainResult;
  const load = async () => {
    await studio.loadModel({ kind: 'demo', name: 'gpt2-fortunes' });
    await studio.loadData({ kind: 'demo' }, CONFIG.seqLen);
  };
  return { studio, events, until, stateOf, lastStep, finished, result, load };
}

function expectSameResult(got: TrainResult, want: TrainResult): void {
  expect(got.history.length).toBe(want.history.length);
  got.history.forEach((h, i) => { for (const k of Object.keys(want.history[i])) expect(Object.is(h[k], want.history[i][k]), `history[${i}].${k}`).toBe(true); });
  for (const [k, w] of want.merged) expectBits(got.merged.get(k) as Float32Array, w, `merged ${k}`);
}

let a: ReturnType<typeof session>;
let reference: TrainResult;

beforeAll(async () => {
  a = session();
  await a.load();
  a.studio.start(`ref-${tag}`, CONFIG);
  await a.finished(`ref-${tag}`);
  expect(a.stateOf(`ref-${tag}`)?.state).toBe('done');
  reference = a.result(`ref-${tag}`);
  expect((await a.studio.unfinished()).map((u) => u.runId)).not.toContain(`ref-${tag}`); // a finished run leaves no checkpoint
});

describe('studio: resume from OPFS checkpoints', () => {
  it('device lost mid-run → failed, checkpoint kept → reset-device → resume → bit-identical', async () => {
    const id = `lost-${tag}`;
    a.studio.start(id, CONFIG);
    await a.until(() => a.lastStep(id) >= 2, 'step 2');
    a.studio.loseDevice();
    await a.finished(id);
    const st = a.stateOf(id);
    expect(st).toMatchObject({ state: 'error', message: expect.stringMatching(/^failed: the GPU device was lost.*destroyed.*curves so far are kept.*resume from the checkpoint of step \d+$/) });
    await a.studio.resetDevice();
    const { fromStep } = await a.studio.resume(id);
    expect(fromStep).toBe(st?.checkpointStep);
    await a.finished(id);
    expect(a.stateOf(id)?.state).toBe('done');
    expectSameResult(a.result(id), reference);
  });

  it('after a reload the run is listed as unfinished and resumes with its curves: bit-identical', async () => {
    const id = `reload-${tag}`;
    a.studio.start(id, CONFIG);
    await a.until(() => a.lastStep(id) >= 3, 'step 3');
    a.studio.control(id, 'stop'); // the old page goes away without a checkpoint, as a killed tab would
    await a.finished(id);
    const b = session(); // the reloaded page: a new worker, the same OPFS
    const listed = (await b.studio.unfinished()).find((u) => u.runId === id);
    expect(listed).toMatchObject({ totalSteps: 8, model: 'built-in gpt2-fortunes', data: 'fortunes-finetune.txt' });
    await expect(b.studio.resume(id)).rejects.toThrow(/load a model first/);
    await b.load();
    const { fromStep } = await b.studio.resume(id);
    expect(fromStep).toBe(listed?.step);
    await b.finished(id);
    expect(b.stateOf(id)?.state).toBe('done');
    expect(b.events.find((e) => e.kind === 'run-state' && e.runId === id && e.resumedFrom !== undefined)).toMatchObject({ resumedFrom: fromStep, backfill: true });
    const points = b.events.flatMap((e) => (e.kind === 'metrics' && e.runId === id ? e.steps.map((p) => p.step) : []));
    expect(points).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // the checkpoint's history first, then the new steps
    expectSameResult(b.result(id), reference);
    expect((await b.studio.unfinished()).map((u) => u.runId)).not.toContain(id);
  });
});
