// Per-device kernel selection (src/gpu/autotune.ts, src/gpu/selector.ts) with a fake clock: the fastest
// valid variant wins, a variant that fails to compile or to match the reference is never chosen, and a
// choice once made is kept (in the page and in storage) so reruns on one device use the same kernels.
import { describe, expect, it } from 'vitest';
import { type Candidate, type Clock, tune } from '../../src/gpu/autotune';
import { VariantSelector } from '../../src/gpu/selector';
import { LocalStorageTuneStore, MemoryTuneStore } from '../../src/gpu/tuneStore';

/** A clock that only moves when a fake variant "runs": msPerRun each time. */
function fakeDevice() {
  let t = 0;
  const clock: Clock = { now: () => t };
  const log: string[] = [];
  const variant = (id: string, msPerRun: number, fault?: 'compile' | 'mismatch'): Candidate => ({
    id,
    async prepare() {
      log.push(`prepare ${id}`);
      if (fault === 'compile') throw new Error(`pipeline '${id}' failed: unknown builtin`);
      return {
        flops: 2e6,
        async validate() {
          if (fault === 'mismatch') throw new Error('element 3: 0.5 vs reference 0.25');
        },
        async run(iters: number) {
          log.push(`run ${id} ×${iters}`);
          t += msPerRun * iters;
        },
      };
    },
  });
  return { clock, log, variant };
}

describe('tune (fake clock)', () => {
  it('times each variant until a measurement spans the budget and picks the fastest', async () => {
    const d = fakeDevice();
    const choice = await tune([d.variant('a', 1.5), d.variant('b', 0.5), d.variant('c', 2)], { clock: d.clock, budgetMs: 4 });
    expect(choice.variant).toBe('b');
    expect(choice.source).toBe('tuned');
    expect(choice.timings).toEqual({ a: 1.5, b: 0.5, c: 2 });
    expect(choice.gflops).toBeCloseTo(2e6 / (0.5 * 1e6), 10);
    // b at 0.5 ms needs 8 runs to span 4 ms: warm-up ×1, then ×1, ×2, ×4, ×8.
    expect(d.log.filter((l) => l.startsWith('run b'))).toEqual(['run b ×1', 'run b ×1', 'run b ×2', 'run b ×4', 'run b ×8']);
  });

  it('never chooses a variant that fails to compile or mismatches the reference, however fast', async () => {
    const d = fakeDevice();
    const choice = await tune([
      d.variant('broken', 0.01, 'compile'), d.variant('wrong', 0.01, 'mismatch'), d.variant('slow', 3), d.variant('ok', 1),
    ], { clock: d.clock });
    expect(choice.variant).toBe('ok');
    expect(Object.keys(choice.timings!)).toEqual(['slow', 'ok']);
    expect(choice.rejected).toEqual([
      { id: 'broken', reason: "does not compile on this device: pipeline 'broken' failed: unknown builtin" },
      { id: 'wrong', reason: 'wrong result on the check product: element 3: 0.5 vs reference 0.25' },
    ]);
    expect(d.log.some((l) => l.startsWith('run broken') || l.startsWith('run wrong'))).toBe(false);
  });

  it('keeps the earlier variant on a tie, and fails with every reason when nothing works', async () => {
    const d = fakeDevice();
    expect((await tune([d.variant('first', 1), d.variant('second', 1)], { clock: d.clock })).variant).toBe('first');
    await expect(tune([d.variant('x', 1, 'compile'), d.variant('y', 1, 'mismatch')], { clock: d.clock }))
      .rejects.toThrow(/no variant works on this device: x: does not compile.*; y: wrong result/);
  });
});

describe('VariantSelector', () => {
  const request = (d: ReturnType<typeof fakeDevice>, speeds: Record<string, number>, builtIn?: string) => ({
    kernel: 'matmul', shapeClass: 'NN plain vec4 full',
    candidates: () => Object.entries(speeds).map(([id, ms]) => d.variant(id, ms)),
    builtIn: builtIn ? () => builtIn : undefined,
  });

  it('decides a shape class once: later calls (also concurrent ones) get the same choice without timing again', async () => {
    const d = fakeDevice();
    const sel = new VariantSelector('nvidia/hopper', new MemoryTuneStore(), { clock: d.clock });
    const [a, b] = await Promise.all([sel.choose(request(d, { p: 2, q: 1 })), sel.choose(request(d, { p: 2, q: 1 }))]);
    expect(a.variant).toBe('q');
    expect(b).toBe(a);
    const prepares = d.log.filter((l) => l.startsWith('prepare')).length;
    // Even if the device's speeds changed (load, thermals), the class keeps its variant.
    expect((await sel.choose(request(d, { p: 0.1, q: 1 }))).variant).toBe('q');
    expect(d.log.filter((l) => l.startsWith('prepare')).length).toBe(prepares);
    const records = await sel.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kernel: 'matmul', shapeClass: 'NN plain vec4 full', variant: 'q', source: 'tuned' });
  });

  it('a new page on the same adapter reads the stored choice; another adapter tunes afresh', async () => {
    const d = fakeDevice();
    const store = new MemoryTuneStore();
    await new VariantSelector('amd/rdna3', store, { clock: d.clock }).choose(request(d, { p: 2, q: 1 }));
    d.log.length = 0;
    const again = await new VariantSelector('amd/rdna3', store, { clock: d.clock }).choose(request(d, { p: 0.1, q: 1 }));
    expect(again).toMatchObject({ variant: 'q', source: 'stored' });
    expect(d.log).toEqual([]);
    const other = await new VariantSelector('intel/xe', store, { clock: d.clock }).choose(request(d, { p: 0.1, q: 1 }));
    expect(other).toMatchObject({ variant: 'p', source: 'tuned' });
  });

  it('a stored variant that is no longer eligible is tuned again; a built-in table is used when nothing is stored', async () => {
    const d = fakeDevice();
    const store = new MemoryTuneStore();
    await new VariantSelector('apple/m2', store, { clock: d.clock }).choose(request(d, { gone: 0.1, q: 1 }));
    const sel = new VariantSelector('apple/m2', store, { clock: d.clock });
    expect(await sel.choose(request(d, { p: 2, q: 1 }))).toMatchObject({ variant: 'q', source: 'tuned' });
    const sw = new VariantSelector('google/swiftshader', new MemoryTuneStore(), { clock: d.clock });
    d.log.length = 0;
    expect(await sw.choose(request(d, { p: 0.1, q: 1 }, 'q'))).toEqual({ variant: 'q', source: 'built-in' });
    expect(d.log).toEqual([]);
  });

  it('choices survive in the page storage as one JSON record set, and a damaged record only costs a re-tune', async () => {
    const items = new Map<string, string>();
    const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) } as Storage;
    const d = fakeDevice();
    await new VariantSelector('nvidia/ada', new LocalStorageTuneStore(storage), { clock: d.clock }).choose(request(d, { p: 2, q: 1 }));
    expect([...items.values()][0]).toContain('"variant":"q"');
    expect(await new VariantSelector('nvidia/ada', new LocalStorageTuneStore(storage), { clock: d.clock })
      .choose(request(d, { p: 0.1, q: 1 }))).toMatchObject({ variant: 'q', source: 'stored' });
    for (const k of items.keys()) items.set(k, '{not json');
    expect(await new VariantSelector('nvidia/ada', new LocalStorageTuneStore(storage), { clock: d.clock })
      .choose(request(d, { p: 0.1, q: 1 }))).toMatchObject({ variant: 'p', source: 'tuned' });
  });
});
