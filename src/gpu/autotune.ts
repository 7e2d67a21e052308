// Per-device kernel selection: time each eligible variant of a kernel for a few milliseconds on the device,
// keep the fastest, and remember the choice for this adapter so that every later run uses the same kernels
// (docs/kernels.md#selection). Pure logic: the device work comes in as `Trial`s and time from a `Clock`,
// so the choice can be tested with a fake clock.

/** One variant made ready on the device for one shape class. */
export interface Trial {
  /** Runs a check product and compares it with the CPU reference; throws (with the reason) on a mismatch. */
  validate(): Promise<void>;
  /** Runs the variant `iters` times back to back and waits until the device is done. */
  run(iters: number): Promise<void>;
  /** Floating-point operations of one run, for GFLOP/s. */
  flops: number;
  dispose?(): void;
}

export interface Candidate {
  id: string;
  /** Compiles and binds the variant; throws when the device refuses it (compile or validation error). */
  prepare(): Promise<Trial>;
}

export interface Clock {
  now(): number;
}

export const wallClock: Clock = { now: () => performance.now() };

export interface TuneOptions {
  clock?: Clock;
  /** Time each variant until one measurement spans at least this long (default 4 ms). */
  budgetMs?: number;
  /** The most runs one measurement may batch (default 64). */
  maxIters?: number;
}

export interface Rejected {
  id: string;
  reason: string;
}

/** How a choice came about: measured here, read back from storage, or the shipped table for this adapter. */
export type ChoiceSource = 'tuned' | 'stored' | 'built-in';

export interface Choice {
  variant: string;
  source: ChoiceSource;
  /** Speed of the chosen variant where it was measured (GFLOP/s). */
  gflops?: number;
  /** Milliseconds per run of every variant timed, by id (tuned choices only). */
  timings?: Record<string, number>;
  rejected?: Rejected[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Times the candidates in order; a candidate that fails to prepare or validate is rejected with its reason
 * and never chosen. Ties keep the earlier candidate (list order is the preference order). Throws when
 * every candidate is rejected.
 */
export async function tune(candidates: Candidate[], options: TuneOptions = {}): Promise<Choice> {
  const clock = options.clock ?? wallClock;
  const budget = options.budgetMs ?? 4;
  const maxIters = options.maxIters ?? 64;
  const timings: Record<string, number> = {};
  const gflops: Record<string, number> = {};
  const rejected: Rejected[] = [];
  for (const c of candidates) {
    let trial: Trial | undefined;
    try {
      trial = await c.prepare();
    } catch (e) {
      rejected.push({ id: c.id, reason: `does not compile on this device: ${message(e)}` });
      continue;
    }
    try {
      try {
        await trial.validate();
      } catch (e) {
        rejected.push({ id: c.id, reason: `wrong result on the check product: ${message(e)}` });
        continue;
      }
      await trial.run(1); // warm-up: first-use costs stay out of the measurement
      let iters = 1;
      let ms: number;
      for (;;) {
        const t0 = clock.now();
        await trial.run(iters);
        ms = clock.now() - t0;
        if (ms >= budget || iters >= maxIters) break;
        iters = Math.min(maxIters, iters * 2);
      }
      timings[c.id] = ms / iters;
      gflops[c.id] = trial.flops / (timings[c.id] * 1e6);
    } catch (e) {
      rejected.push({ id: c.id, reason: `failed while timed: ${message(e)}` });
      delete timings[c.id];
    } finally {
      trial.dispose?.();
    }
  }
  const ids = Object.keys(timings);
  if (!ids.length) {
    throw new Error(`no variant works on this device: ${rejected.map((r) => `${r.id}: ${r.reason}`).join('; ')}`);
  }
  const best = ids.reduce((a, b) => (timings[b] < timings[a] ? b : a));
  return { variant: best, source: 'tuned', gflops: gflops[best], timings, rejected };
}
