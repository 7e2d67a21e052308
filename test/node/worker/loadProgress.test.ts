// The studio's load progress bar (issue 13 item 1) and the one line for a dead worker (item 7): the bar's
// text (bytes, MB/s, time left), the Hub's per-file progress summed into one bar, thinning that never drops
// the final event, and the worker-failure line naming memory as the likely cause.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hubLoadProgress, progressLine, tensorLoadProgress } from '../../../src/worker/loadProgress';
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
