// The gpu project's setup file (test/helpers/gpuErrors.ts) fails any test that leaves a GPU error no
// error scope caught. Proven here on a deliberately invalid buffer: WebGPU refuses MAP_READ | STORAGE.
import { describe, expect, it, onTestFailed } from 'vitest';
import { testContext } from '../helpers/gpu';
import { expectUncapturedGpuErrors } from '../helpers/gpuErrors';

const invalidBuffer = (device: GPUDevice) =>
  device.createBuffer({ label: 'deliberately invalid', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });

const failures: string[] = [];

describe('uncaptured GPU errors fail the test', () => {
  // `fails` passes only if the test fails; its body asserts nothing, so only the setup file's
  // afterEach can fail it. The next test checks that it failed for that reason.
  it.fails('a test that leaves an uncaptured validation error fails', async () => {
    onTestFailed(({ task }) => { failures.push(...(task.result?.errors ?? []).map((e) => e.message ?? String(e))); });
    const ctx = await testContext();
    invalidBuffer(ctx.device);
  });

  it('… and it failed with the error, named with its device', () => {
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^1 uncaptured GPU error\(s\) during this test:\n {2}device 'test-device': GPUValidationError: /);
  });

  it('a test that expects the error gets it and can pass', async () => {
    const errors = expectUncapturedGpuErrors();
    const ctx = await testContext();
    invalidBuffer(ctx.device);
    await ctx.device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/GPUValidationError/);
  });

  it('an error caught by an error scope is not uncaptured', async () => {
    const ctx = await testContext();
    ctx.device.pushErrorScope('validation');
    invalidBuffer(ctx.device);
    expect(await ctx.device.popErrorScope()).not.toBeNull();
  });
});
