// GPU faults for real, not hand-built errors: an allocation the driver cannot back (SwiftShader refuses
// a buffer of exactly maxBufferSize with VK_ERROR_OUT_OF_DEVICE_MEMORY, before touching any memory), a
// training run that hits it, and the studio's own device reset, which is not a loss.
import { describe, expect, it } from 'vitest';
import { GpuOutOfMemoryError } from '../../src/gpu/errors';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import type { StudioEvent } from '../../src/worker/protocol';
import { Studio } from '../../src/worker/studio';
import { testContext } from '../helpers/gpu';

describe('out of memory, for real', () => {
  it('a buffer within maxBufferSize that the driver cannot back is a GpuOutOfMemoryError', async () => {
    const ctx = await testContext();
    // Whole-limit buffers, held until the device refuses one: on SwiftShader the first already fails
    // (its largest allocation is a few bytes under 1 GiB = maxBufferSize); a real GPU fills its memory.
    const held: GPUBuffer[] = [];
    let caught: unknown;
    for (let i = 0; i < 64 && !caught; i++) {
      try { held.push(await ctx.allocating(`buffer ${i}`, () => ctx.createBuffer(`whole-limit-${i}`, ctx.limits.maxBufferSize))); } catch (e) { caught = e; }
    }
    for (const b of held) b.destroy();
    expect(caught, 'no out-of-memory error within 64 × maxBufferSize').toBeInstanceOf(GpuOutOfMemoryError);
    const e = caught as GpuOutOfMemoryError;
    expect(e.requestedBytes).toBe(ctx.limits.maxBufferSize);
    expect(e.message).toMatch(/^buffer \d+: the GPU ran out of memory while allocating \d+ bytes \(\d+\.\d MiB\) \(.+\); lower the batch size, sequence length or rank$/);
    expect(e.message, 'one line').not.toContain('\n');
    // The device is not lost and still works.
    const ok = await ctx.allocating('a small buffer', () => ctx.upload('after-oom', Float32Array.of(1, 2, 3)));
    expect([...await ctx.readF32(ok, 3)]).toEqual([1, 2, 3]);
    ok.destroy();
    expect(ctx.isLost).toBe(false);
  });
});

/**
 * The demo GPT-2 with 16 heads and 2048 positions (wpe tiled): at batch 4 × 2048 tokens its attention
 * scores are 4·16·2048²·4 bytes = exactly 1 GiB = maxBufferSize, allowed by the limits but refused by
 * SwiftShader, while every other buffer stays under 40 MiB.
 */
async function wideDemo(): Promise<{ kind: 'files'; label: string; files: { name: string; bytes: ArrayBuffer }[] }> {
  const get = async (n: string) => (await fetch(`/demo/gpt2-fortunes/${n}`)).arrayBuffer();
  const config = JSON.parse(new TextDecoder().decode(await get('config.json')));
  const st = readSafetensors(await get('model.safetensors'));
  const tensors = new Map([...st.tensors].map(([k, t]) => [k, { shape: [...t.shape], data: t.data }]));
  const wpe = tensors.get('transformer.wpe.weight')!;
  const P = 2048, C = wpe.shape[1];
  const tiled = new Float32Array(P * C);
  for (let p = 0; p < P; p++) tiled.set(wpe.data.subarray((p % wpe.shape[0]) * C, (p % wpe.shape[0] + 1) * C), p * C);
  tensors.set('transformer.wpe.weight', { shape: [P, C], data: tiled });
  const files = [
    { name: 'config.json', bytes: new TextEncoder().encode(JSON.stringify({ ...config, n_head: 16, n_positions: P, n_ctx: P })).buffer as ArrayBuffer },
    { name: 'model.safetensors', bytes: writeSafetensors(tensors).slice().buffer as ArrayBuffer },
    { name: 'tokenizer.json', bytes: await get('tokenizer.json') },
  ];
  return { kind: 'files', label: 'gpt2-wide', files };
}

function session() {
  const events: StudioEvent[] = [];
  const studio = new Studio('/', (e) => events.push(e));
  const stateOf = (id: string) => events.filter((e): e is Extract<StudioEvent, { kind: 'run-state' }> => e.kind === 'run-state' && e.runId === id).pop();
  const finished = async (id: string) => {
    for (let t = 0; !['done', 'error', 'interrupted', 'stopped'].includes(stateOf(id)?.state ?? ''); t += 50) {
      if (t > 120_000) throw new Error(`timed out waiting for ${id}; last events: ${JSON.stringify(events.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return stateOf(id)!;
  };
  const steps = (id: string) => events.flatMap((e) => (e.kind === 'metrics' && e.runId === id ? e.steps.map((p) => p.step) : []));
  return { studio, events, stateOf, finished, steps };
}

describe('studio: a run that runs out of GPU memory', () => {
  it('fails with the typed error and a smaller batch to try; earlier curves stay, the device keeps working', async () => {
    const s = session();
    const tag = Date.now().toString(36);
    await s.studio.loadModel(await wideDemo());
    await s.studio.loadData({ kind: 'demo' }, 16);
    const small = { method: 'lora' as const, maxSteps: 2, seqLen: 16, batchSize: 2, r: 2, evalExamples: 2 };

    s.studio.start(`before-${tag}`, small);
    expect((await s.finished(`before-${tag}`)).state).toBe('done');
    const curve = s.steps(`before-${tag}`);
    expect(curve).toEqual([1, 2]);

    s.studio.start(`oom-${tag}`, { ...small, seqLen: 2048, batchSize: 4 });
    const failed = await s.finished(`oom-${tag}`);
    expect(failed.state).toBe('error');
    expect(failed.message).toMatch(/GPT-2 engine \(batch 4 × 2048 tokens, rank 2\): the GPU ran out of memory while allocating/);
    expect(failed.message).toMatch(/\. Try a batch size of 2\.$/);
    expect(failed.message, 'one line').not.toContain('\n');
    expect(s.events.some((e) => e.kind === 'device-lost')).toBe(false);

    // The first run's curve and result are still there, and the same device trains the next run.
    expect(s.steps(`before-${tag}`)).toEqual(curve);
    await expect(s.studio.export(`before-${tag}`, 'log')).resolves.toBeDefined();
    s.studio.start(`after-${tag}`, small);
    expect((await s.finished(`after-${tag}`)).state).toBe('done');
  });
});

describe('studio: device reset', () => {
  it('destroying its own live device in resetDevice is not reported as a loss; a real loss still is', async () => {
    const s = session();
    await s.studio.resetDevice(); // creates the device
    await s.studio.resetDevice(); // destroys that live device, makes another
    await new Promise((r) => setTimeout(r, 200));
    expect(s.events.filter((e) => e.kind === 'device-lost')).toEqual([]);
    s.studio.loseDevice();
    await new Promise((r) => setTimeout(r, 200));
    expect(s.events.filter((e) => e.kind === 'device-lost')).toHaveLength(1);
  });
});
