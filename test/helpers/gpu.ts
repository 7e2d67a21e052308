// The test suite's shared GPU context: the same getDevice() the app uses, one device per test file.
import { getDevice } from '../../src/gpu/device';
import type { GpuContext } from '../../src/gpu/context';

let ctx: Promise<GpuContext> | undefined;

export function testContext(): Promise<GpuContext> {
  ctx ??= getDevice({ label: 'test-device' });
  return ctx;
}
