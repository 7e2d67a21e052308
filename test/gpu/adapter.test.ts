import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu';

describe('WebGPU adapter for the suite', () => {
  it('exists (GPU tests never skip: no adapter is a failure)', async () => {
    const ctx = await testContext();
    console.log(`[lorasc] WebGPU adapter for tests: ${ctx.describe()}`);
    expect(ctx.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
  });
});
