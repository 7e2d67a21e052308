// Bench row: peak vs planned GPU memory of a training step (src/train/memoryPlan.ts against the context's
// allocation tracking, src/gpu/allocations.ts), with and without activation recomputation, and the step
// time each costs. runMemplan runs in the bench page; runMemplanInPage (Node) asks the page for the rows, which the
// bench puts in its JSON report as `memplan` and prints with memplanTable.
import type { Page } from 'playwright-core';
import type { GpuContext } from '../src/gpu/context';
import { getDevice } from '../src/gpu/device';
import { resolveConfig } from '../src/train/config';
import { createEngine, engineOptions } from '../src/train/engine';
import { planTraining } from '../src/train/memoryPlan';
import { targetedModules } from '../src/train/modules';
import { syntheticGpt2 } from './train';

export interface MemplanRow {
  name: string;
  recompute: boolean;
  planned: number; // bytes, the plan's total
  peak: number; // bytes, the tracked peak over create + steps + reads
  activations: number; // planned activation bytes
  msPerStep: number; // median of the timed steps (forward, loss, backward, AdamW)
}

const CASE = { name: 'GPT-2 C128 L4 NH2 V4096 B4 T64, r 8 on c_attn, c_proj, c_fc', C: 128, L: 4, NH: 2, V: 4096, B: 4, T: 64 };

async function row(ctx: GpuContext, recompute: boolean, reps: number): Promise<MemplanRow> {
  const loaded = await syntheticGpt2({ ...CASE, R: 8 });
  const c = resolveConfig({ targetModules: ['c_attn', 'c_proj', 'c_fc'], r: 8, batchSize: CASE.B, seqLen: CASE.T, loraDropout: 0, recompute });
  const plan = planTraining(loaded, c, ctx.limits);
  await ctx.finish();
  const before = ctx.allocations.total;
  ctx.allocations.resetPeak();
  const engine = await createEngine(ctx, loaded, engineOptions(c, targetedModules(loaded, c.targetModules), CASE.T));
  try {
    const n = CASE.B * CASE.T;
    const ids = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % CASE.V);
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 104729 + 1) % CASE.V);
    const times: number[] = [];
    for (let k = 0; k < reps + 1; k++) {
      const t0 = performance.now();
      await engine.step(ids, labels);
      await engine.adamwStep(1e-3);
      await ctx.finish();
      if (k > 0) times.push(performance.now() - t0); // the first step compiles
    }
    await engine.readGrads();
    await engine.readOptimizerState();
    times.sort((a, b) => a - b);
    return {
      name: CASE.name, recompute, planned: plan.total, peak: ctx.allocations.peakTotal - before,
      activations: plan.bytes.activations, msPerStep: times[Math.floor(times.length / 2)],
    };
  } finally {
    engine.destroy();
  }
}

/** In the bench page: both rows on this page's device. */
export async function runMemplan(reps = 3): Promise<MemplanRow[]> {
  const ctx = await getDevice({ label: 'bench-memplan' });
  return [await row(ctx, false, reps), await row(ctx, true, reps)];
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

/** In Node: runs the rows in the bench page (page.ts puts runMemplan on window; a dynamic import() inside the
 * evaluated function would be rewritten by vite-node into a helper the page does not have). */
export async function runMemplanInPage(page: Page, reps: number): Promise<MemplanRow[]> {
  return page.evaluate((r) => (window as unknown as { runMemplan(reps: number): Promise<MemplanRow[]> }).runMemplan(r), reps);
}

/** In Node: the rows as the bench's table. */
export function memplanTable(rows: MemplanRow[], reps: number): string {
  return [
    `Peak vs planned GPU memory of a training step (${rows[0].name}; create, ${reps + 1} steps + AdamW, gradient and optimizer reads)`,
    'recompute  planned      peak         peak/plan  activations   ms/step',
    ...rows.map((x) => `${(x.recompute ? 'on' : 'off').padEnd(10)} ${MiB(x.planned).padEnd(12)} ${MiB(x.peak).padEnd(12)} ${(x.peak / x.planned).toFixed(4).padEnd(10)} ${MiB(x.activations).padEnd(13)} ${x.msPerStep.toFixed(0)}`),
    '',
  ].join('\n');
}
