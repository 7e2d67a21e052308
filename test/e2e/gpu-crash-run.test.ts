// Issue 13 item 7 in the studio: the GPU process crashes mid-run (Chrome DevTools Protocol
// `Browser.crashGpuProcess`, as test/e2e/gpu-crash.test.ts). The run is marked failed with one line naming
// what happened and the likely cause; its curves (the metrics sent so far) and its last checkpoint in OPFS
// are kept, and the run is listed as resumable from that checkpoint.
import { describe, expect, it } from 'vitest';
import { useGpuCrashPage } from './gpuCrashPage';

describe('GPU process crash during a studio run', () => {
  const crash = useGpuCrashPage('crash-run');

  it('marks the run failed with the likely cause, keeps its curves and its checkpoint', async () => {
    const { page } = crash;
    await page.evaluate(`(async () => {
      const { Studio } = await import('/src/worker/studio.ts');
      const events = [];
      const studio = new Studio('/', (e) => events.push(e));
      await studio.loadModel({ kind: 'demo', name: 'gpt2-fortunes' });
      await studio.loadData({ kind: 'demo' }, 16);
      studio.start('crash-run', { method: 'lora', maxSteps: 400, seqLen: 16, batchSize: 2, r: 2, checkpointEvery: 2, evalExamples: 2 });
      Object.assign(window, { events, studio });
    })()`);
    // Crash once a checkpoint after step 2 is committed and steps have been reported.
    await page.waitForFunction(() => {
      const ev = (window as unknown as { events: { kind: string; runId?: string; checkpointStep?: number; steps?: unknown[] }[] }).events;
      return ev.some((e) => e.kind === 'metrics' && (e.steps?.length ?? 0) > 0) && ((window as unknown as { studio: { runs: Map<string, { checkpointStep?: number }> } }).studio.runs.get('crash-run')?.checkpointStep ?? 0) >= 2;
    }, undefined, { timeout: 240_000, polling: 100 });
    await crash.crashGpuProcess();
    await page.waitForFunction(() => {
      const ev = (window as unknown as { events: { kind: string; runId?: string; state?: string }[] }).events;
      return ev.some((e) => e.kind === 'run-state' && e.runId === 'crash-run' && (e.state === 'error' || e.state === 'done'));
    }, undefined, { timeout: 120_000 });
    const seen = await page.evaluate(`(async () => {
      const ev = window.events;
      const final = ev.filter((e) => e.kind === 'run-state' && e.runId === 'crash-run').pop();
      const steps = ev.filter((e) => e.kind === 'metrics' && e.runId === 'crash-run').flatMap((e) => e.steps);
      const unfinished = await window.studio.unfinished();
      return { final, steps: steps.length, unfinished: unfinished.find((u) => u.runId === 'crash-run') ?? null };
    })()`) as { final: { state: string; message: string; checkpointStep?: number }; steps: number; unfinished: { step: number } | null };
    expect(seen.final.state).toBe('error');
    expect(seen.final.message).toMatch(/^failed: the GPU device was lost.*: the GPU process crashed or the driver reset it, most often for want of GPU memory.*the curves so far are kept; get a new device, then resume from the checkpoint of step \d+$/);
    expect(seen.final.message.split('\n')).toHaveLength(1);
    expect(seen.steps).toBeGreaterThan(0);
    expect(seen.final.checkpointStep).toBeGreaterThanOrEqual(2);
    // The checkpoint is intact in OPFS: the run is offered for resume at that step.
    expect(seen.unfinished?.step).toBe(seen.final.checkpointStep);
  }, 420_000);
});
