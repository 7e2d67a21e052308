// Coverage of a fuzz property: the distinct verdicts (error codes, or "accepted"/"parsed"/"loaded") its
// generated inputs reached. The seeds are fixed, so the set is exact. `docs/reliability.md` lists each set;
// a change of generators or parser that loses a verdict fails here, and so does a new one (update both).
import { expect } from 'vitest';

export class Verdicts {
  private readonly counts = new Map<string, number>();

  add(verdict: string): void {
    this.counts.set(verdict, (this.counts.get(verdict) ?? 0) + 1);
  }

  count(verdict: string): number {
    return this.counts.get(verdict) ?? 0;
  }

  /** Exactly these verdicts were reached, each at least `min` times. */
  expectExactly(documented: readonly string[], min = 1): void {
    const summary = JSON.stringify([...this.counts].sort());
    if (process.env.FUZZ_STATS) console.log(summary);
    expect([...this.counts.keys()].sort(), `verdicts reached (counts: ${summary})`).toEqual([...documented].sort());
    for (const v of documented) expect(this.count(v), `${v} reached ${this.count(v)} times (counts: ${summary})`).toBeGreaterThanOrEqual(min);
  }
}
