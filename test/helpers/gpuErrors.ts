// Setup file of the `gpu` test project: every GPU error nobody caught in an error scope fails the test
// that was running. A kernel that encodes an invalid bind group or a bad copy otherwise only logs a
// warning in the console, and its test can still pass on stale buffer contents.
//
// Every device created in the test page is watched: `GPUAdapter.prototype.requestDevice` is wrapped,
// so devices made by getDevice(), by a Studio or by a test itself are all covered (workers are not: a
// worker has its own globals). After each test, the queue of every live device is drained, so errors
// from its last submits have arrived, and any recorded error fails the test. Errors raised in a
// `beforeAll` fail the first test; errors after the last test fail the file (afterAll).
//
// A test that provokes one on purpose calls `expectUncapturedGpuErrors()`, which hands the test the
// errors and lets it check them itself.
import { afterAll, afterEach } from 'vitest';

interface Watch {
  devices: Set<GPUDevice>;
  errors: string[];
  /** Set by a test that expects uncaptured errors; cleared after that test. */
  expected: boolean;
}

const KEY = Symbol.for('lorasc.test.uncapturedGpuErrors');
const g = globalThis as unknown as Record<symbol, Watch | undefined>;

function watch(): Watch {
  let w = g[KEY];
  if (!w) {
    w = { devices: new Set(), errors: [], expected: false };
    g[KEY] = w;
    const adapterProto = (globalThis as { GPUAdapter?: { prototype: GPUAdapter } }).GPUAdapter?.prototype;
    if (adapterProto) {
      const original = adapterProto.requestDevice;
      const state = w;
      adapterProto.requestDevice = async function requestDevice(this: GPUAdapter, desc?: GPUDeviceDescriptor) {
        const device = await original.call(this, desc);
        state.devices.add(device);
        device.addEventListener('uncapturederror', (e) => {
          const error = (e as GPUUncapturedErrorEvent).error;
          state.errors.push(`device '${device.label}': ${error.constructor?.name ?? 'GPUError'}: ${error.message.split('\n')[0]}`);
        });
        void device.lost.then(() => state.devices.delete(device));
        return device;
      };
    }
  }
  return w;
}

watch();

/** Lets the current test provoke uncaptured GPU errors; returns the live list of those recorded. */
export function expectUncapturedGpuErrors(): readonly string[] {
  const w = watch();
  w.expected = true;
  return w.errors;
}

/** Waits until every live device has finished its submitted work, so its errors have been delivered. */
async function drain(w: Watch): Promise<void> {
  await Promise.all([...w.devices].map((d) => d.queue.onSubmittedWorkDone().catch(() => undefined)));
  await new Promise((r) => setTimeout(r, 0));
}

async function check(when: string): Promise<void> {
  const w = watch();
  await drain(w);
  const errors = w.errors.splice(0);
  const expected = w.expected;
  w.expected = false;
  if (!expected && errors.length) {
    throw new Error(`${errors.length} uncaptured GPU error(s) ${when}:\n  ${errors.slice(0, 5).join('\n  ')}`);
  }
}

afterEach(() => check('during this test'));
afterAll(() => check('after the last test of this file'));
