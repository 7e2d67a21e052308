// A device loss that is not `destroy()`: the GPU process crashes (Chrome DevTools Protocol
// `Browser.crashGpuProcess`, ./gpuCrashPage.ts). Every device of the page is lost with reason "unknown",
// the studio reports the loss, and its "Get a new device" (resetDevice) gives a working device from the
// restarted GPU process.
import { describe, expect, it } from 'vitest';
import { useGpuCrashPage } from './gpuCrashPage';

describe('GPU process crash', () => {
  const crash = useGpuCrashPage('crash-test');

  it('loses the device with reason "unknown"; the studio reports it and a reset gives a working device', async () => {
    const { page } = crash;
    // Scripts as strings: vitest rewrites `import()` in this file's own functions for Node.
    await page.evaluate(`(async () => {
      const { getDevice } = await import('/src/gpu/device.ts');
      const { Studio } = await import('/src/worker/studio.ts');
      const ctx = await getDevice({ label: 'crash-test' });
      const events = [];
      ctx.events.on((e) => events.push(e));
      const studioEvents = [];
      const studio = new Studio('/', (e) => studioEvents.push(e));
      await studio.resetDevice(); // the studio's own device
      Object.assign(window, { ctx, events, studio, studioEvents });
    })()`);
    await crash.crashGpuProcess();
    await page.waitForFunction(() => {
      const w = window as unknown as { events: { type: string }[]; studioEvents: { kind: string }[] };
      return w.events.some((e) => e.type === 'device-lost') && w.studioEvents.some((e) => e.kind === 'device-lost');
    }, undefined, { timeout: 60_000 });
    const seen = await page.evaluate(() => {
      const w = window as unknown as { events: { type: string; reason?: string }[]; studioEvents: { kind: string; message?: string }[]; ctx: { isLost: boolean } };
      return { lost: w.events.filter((e) => e.type === 'device-lost'), studio: w.studioEvents.filter((e) => e.kind === 'device-lost'), isLost: w.ctx.isLost };
    });
    expect(seen.lost).toHaveLength(1);
    expect(seen.lost[0].reason).toBe('unknown');
    expect(seen.isLost).toBe(true);
    expect(seen.studio).toHaveLength(1);
    expect(seen.studio[0].message).toMatch(/\(unknown\)$/);

    // "Get a new device": the restarted GPU process serves a device that computes.
    const after = await page.evaluate(`(async () => {
      await window.studio.resetDevice();
      const { getDevice } = await import('/src/gpu/device.ts');
      const ctx = await getDevice({ label: 'after-crash' });
      const buf = ctx.upload('x', Float32Array.of(1, 2, 3));
      return [...await ctx.readF32(buf, 3)];
    })()`);
    expect(after).toEqual([1, 2, 3]);
  }, 180_000);
});
