// The studio's load progress bar (issue 13 item 1) and the one line for a dead worker (item 7): the bar's
// text (bytes, MB/s, time left), the Hub's per-file progress summed into one bar, thinning that never drops
// the final event, and the worker-failure line naming memory as the likely cause.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesRangeReader, readSafetensorsRanged, writeSafetensors } from '../../../src/io/safetensors';
import { headersProgress, hubLoadProgress, progressLine, tensorLoadProgress, UploadProgress } from '../../../src/worker/loadProgress';
import type { LoadProgressView } from '../../../src/worker/protocol';
import { workerFailure } from '../../../src/worker/client';

afterEach(() => vi.restoreAllMocks());

describe('load progress', () => {
  it('says bytes of the total, the mean speed and the time left', () => {
    expect(progressLine({ bytes: 50e6, totalBytes: 200e6, elapsedMs: 2000 })).toBe('50.0 / 200.0 MB · 25.0 MB/s · 0:06 left');
    expect(progressLine({ bytes: 25e6, totalBytes: 25e6 + 90 * 1e6, elapsedMs: 1000 })).toBe('25.0 / 115.0 MB · 25.0 MB/s · 0:04 left');
    expect(progressLine({ bytes: 200e6, totalBytes: 200e6, elapsedMs: 4000 })).toBe('200.0 / 200.0 MB · 50.0 MB/s · done');
    expect(progressLine({ bytes: 0, totalBytes: 10, elapsedMs: 0 })).toBe('0.0 / 0.0 MB · — MB/s · time left unknown');
  });

  it('thins tensor events to one per 100 ms but always sends the last', () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const got: LoadProgressView[] = [];
    const on = tensorLoadProgress((p) => got.push(p));
    for (let i = 1; i <= 50; i++) { now += 10; on({ bytes: i * 10, totalBytes: 500, tensor: `t${i}`, elapsedMs: now }); }
    expect(got.length).toBe(6); // t1, then one per 100 ms (t11, t21, t31, t41), and the final t50
    expect(got[got.length - 1]).toMatchObject({ item: 't50', done: true, bytes: 500 });
    expect(got.slice(0, -1).every((p) => !p.done)).toBe(true);
  });

  it('sums a Hub download over its files, done when no file is still downloading', () => {
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (now += 200));
    const got: LoadProgressView[] = [];
    const on = hubLoadProgress((p) => got.push(p));
    on({ file: 'config.json', loaded: 500, total: 500, bytesPerSec: null, state: 'cached' });
    on({ file: 'model.safetensors', loaded: 1000, total: 4000, bytesPerSec: 1e4, state: 'downloading' });
    on({ file: 'model.safetensors', loaded: 4000, total: 4000, bytesPerSec: 1e4, state: 'done' });
    expect(got.map((p) => [p.bytes, p.totalBytes, p.done])).toEqual([[500, 500, true], [1500, 4500, false], [4500, 4500, true]]);
    expect(got.every((p) => p.source === 'hub')).toBe(true);
  });
});

/** Three streamed tensors of 16, 32 and 64 F32 bytes. */
async function streamedTensors() {
  const file = writeSafetensors(new Map([['a', { shape: [4], data: new Float32Array(4) }], ['b', { shape: [8], data: new Float32Array(8) }], ['c', { shape: [16], data: new Float32Array(16) }]]));
  return [...(await readSafetensorsRanged(bytesRangeReader(file), 'model.safetensors')).tensors.values()];
}

describe('weights uploaded to the GPU from a streamed load', () => {
  it('after the headers: the weights\' size, nothing read', async () => {
    expect(headersProgress(await streamedTensors(), 5)).toEqual({ source: 'files', phase: 'headers', bytes: 0, totalBytes: 112, item: '3 tensors', elapsedMs: 5, done: true });
  });

  it('counts each tensor read inside a build, starts over on a second pass, ignores reads outside, and ends done', async () => {
    const tensors = await streamedTensors();
    const got: LoadProgressView[] = [];
    const bar = new UploadProgress(tensors, (p) => got.push(p));
    await tensors[0].bytes(); // outside any build (an export's re-read): not an upload
    expect(got).toEqual([]);
    const built = await bar.during('run r1', async () => {
      for (const t of tensors) await t.bytes();
      for (const t of tensors) await t.bytes(); // a second engine (the parity check): the bar starts over
      return 'engine';
    });
    expect(built).toBe('engine');
    expect(got[0]).toMatchObject({ phase: 'upload', purpose: 'run r1', bytes: 0, totalBytes: 112, done: false });
    const last = got[got.length - 1];
    expect(last).toMatchObject({ phase: 'upload', purpose: 'run r1', bytes: 112, totalBytes: 112, item: 'c', done: true });
    expect(last.stopped).toBeUndefined();
    // Never more than the model's bytes, and the second pass counted from zero again.
    expect(got.every((p) => p.bytes <= 112)).toBe(true);
    expect(got.every((p) => p.phase === 'upload')).toBe(true);
  });

  it('a build that fails part-way ends the bar as stopped where it was, and the error goes on', async () => {
    const tensors = await streamedTensors();
    const got: LoadProgressView[] = [];
    const bar = new UploadProgress(tensors, (p) => got.push(p));
    await expect(bar.during('timing a step', async () => { await tensors[0].bytes(); throw new Error('aborted'); })).rejects.toThrow('aborted');
    expect(got[got.length - 1]).toMatchObject({ purpose: 'timing a step', bytes: 16, done: true, stopped: true });
  });

  it('a model held in memory has nothing to upload from disk: no events', async () => {
    const got: LoadProgressView[] = [];
    expect(await new UploadProgress([], (p) => got.push(p)).during('run r2', async () => 7)).toBe(7);
    expect(got).toEqual([]);
  });
});

describe('a dead worker', () => {
  it('is one line naming memory as the likely cause when the browser gave no message or an allocation error', () => {
    for (const detail of [undefined, '', 'Uncaught RangeError: Array buffer allocation failed', 'Out of memory']) {
      const line = workerFailure(detail);
      expect(line).toMatch(/^the training worker stopped.*likely cause: the page ran out of memory/);
      expect(line.split('\n')).toHaveLength(1);
    }
    expect(workerFailure('Uncaught TypeError: x is not a function')).toBe('the training worker stopped (TypeError: x is not a function)');
  });
});
