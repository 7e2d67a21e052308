// The OPFS checkpoint store (src/io/opfs.ts) in headless Chromium: files in nested folders under one
// directory per run, overwrite by temp-name-then-move, list/remove, run listing; and the checkpoint
// commit protocol over it, a torn write included. No GPU is used.
import { afterAll, describe, expect, it } from 'vitest';
import { OpfsStore, listOpfsRuns, opfsAvailable, removeOpfsRun } from '../../../src/io/opfs';
import { type TrainState, folderOf, loadLatestCheckpoint, writeCheckpoint } from '../../../src/train/checkpoint';
import { resolveConfig } from '../../../src/train/config';

const RUN = `test-${Date.now().toString(36)}`;
const bytes = (...xs: number[]) => new Uint8Array(xs);

function state(step: number): TrainState {
  const name = 'classifier.weight';
  const t = () => Float32Array.from({ length: 6 }, (_, i) => step + i / 7);
  return {
    step, totalSteps: 10, inIteration: false, cascadeIteration: 0, entries: [{ name, shape: [2, 3] }],
    weights: new Map([[name, t()]]), optimizer: { m: new Map([[name, t()]]), v: new Map([[name, t()]]), steps: new Map([[name, step]]), dropoutStep: step }, cascade: null,
    lrFactor: 1, badRun: 0, lastLoss: NaN, bestVal: null, finalVal: null, targetsSeen: 0, elapsedMs: 0, history: [], reports: [],
    config: resolveConfig({ method: 'lora' }), fingerprint: { model: 'm', data: 'd' }, keepBest: null,
  };
}

afterAll(async () => {
  await removeOpfsRun(RUN);
  await removeOpfsRun(`${RUN}-ckpt`);
});

describe('OpfsStore', () => {
  it('writes, overwrites, reads, lists and removes files in nested folders', async () => {
    expect(opfsAvailable()).toBe(true);
    const s = new OpfsStore(RUN);
    await s.write('a/b.bin', bytes(1, 2, 3));
    await s.write('a/b.bin', bytes(9, 8)); // replaced, not appended
    await s.write('c.json', bytes(7));
    expect(await s.read('a/b.bin')).toEqual(bytes(9, 8));
    expect(await s.read('a/missing')).toBeNull();
    expect((await s.list()).sort()).toEqual(['a/b.bin', 'c.json']);
    expect(await listOpfsRuns()).toContain(RUN);
    await s.remove('a');
    expect(await s.list()).toEqual(['c.json']);
    await s.remove('a'); // a missing name is not an error
    await removeOpfsRun(RUN);
    expect(await listOpfsRuns()).not.toContain(RUN);
    expect(await new OpfsStore(RUN).list()).toEqual([]);
  });

  it('carries the checkpoint protocol: a torn newest folder is skipped', async () => {
    const s = new OpfsStore(`${RUN}-ckpt`);
    await writeCheckpoint(s, state(2));
    await writeCheckpoint(s, state(4));
    await s.remove(`${folderOf(4)}/manifest.json`);
    const got = await loadLatestCheckpoint(s);
    expect(got?.folder).toBe(folderOf(2));
    expect(got?.skipped.map((x) => x.folder)).toEqual([folderOf(4)]);
    expect(Array.from(got?.state.weights.get('classifier.weight') ?? [])).toEqual(Array.from(state(2).weights.get('classifier.weight') ?? []));
  });
});
