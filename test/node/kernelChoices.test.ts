// The CLI keeps per-device kernel choices in a file the page reaches through an exposed function, so a
// device keeps its kernels from one CLI run to the next (each run's page has a new origin and empty storage).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kernelChoicesBridge } from '../../src/cli/kernelChoices';
import { VariantSelector } from '../../src/gpu/selector';
import { defaultTuneStore } from '../../src/gpu/tuneStore';

const g = globalThis as { lorascKernelChoices?: unknown };
afterEach(() => { delete g.lorascKernelChoices; });

describe('CLI kernel-choice file', () => {
  it('a choice tuned in one run is read back by the next run’s page, without timing again', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lorasc-kc-')), 'sub', 'kernel-choices.json');
    let clock = 0;
    let runs = 0;
    const request = (fast: string) => ({
      kernel: 'matmul', shapeClass: 'NN plain vec4 full',
      candidates: () => ['a', 'b'].map((id) => ({ id, prepare: async () => ({
        flops: 1, validate: async () => undefined, run: async (n: number) => { runs++; clock += (id === fast ? 1 : 3) * n; },
      }) })),
    });
    g.lorascKernelChoices = kernelChoicesBridge(path);
    const first = await new VariantSelector('nvidia/hopper', defaultTuneStore(), { clock: { now: () => clock } }).choose(request('b'));
    expect(first.variant).toBe('b');
    expect(JSON.parse(readFileSync(path, 'utf8')).records).toBeTruthy();
    // The next run: a fresh page (new store) on the same file, where 'a' would now time faster.
    g.lorascKernelChoices = kernelChoicesBridge(path);
    const before = runs;
    const again = await new VariantSelector('nvidia/hopper', defaultTuneStore(), { clock: { now: () => clock } }).choose(request('a'));
    expect(again).toMatchObject({ variant: 'b', source: 'stored' });
    expect(runs).toBe(before);
  });

  it('a missing or unwritable file only costs a re-tune', async () => {
    // A regular file where the cache folder should be: neither read nor write can succeed.
    const blocker = join(mkdtempSync(join(tmpdir(), 'lorasc-kc-')), 'file');
    writeFileSync(blocker, 'not a folder');
    const bridge = kernelChoicesBridge(join(blocker, 'sub', 'kernel-choices.json'));
    expect(await bridge('read')).toBeNull();
    await expect(bridge('write', '{}')).resolves.toBeNull();
  });
});
