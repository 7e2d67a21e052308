// getDevice() in Node.js: Dawn through the `webgpu` package, falling back to SwiftShader by itself.
// Only acquisition and limits are exercised here: repeated buffer mapping crashes Dawn's Node bindings
// on SwiftShader (see src/gpu/nodeGpu.ts), so kernels are tested in Chromium (project `gpu`).
import { afterAll, describe, expect, it } from 'vitest';
import { getDevice } from '../../src/gpu/device';
import type { GpuContext } from '../../src/gpu/context';
import { GpuLimitError } from '../../src/gpu/errors';

describe('getDevice in Node.js', () => {
  let ctx: GpuContext | undefined;
  afterAll(() => ctx?.destroy());

  it('finds an adapter without any environment variable set by the user', async () => {
    ctx = await getDevice({ label: 'node-test' });
    expect(['hardware', 'swiftshader']).toContain(ctx.backend);
    expect(ctx.describe()).toMatch(/\S/);
  });

  it("requests the adapter's own limits, not WebGPU's defaults", async () => {
    ctx ??= await getDevice({ label: 'node-test' });
    // WebGPU's default maxStorageBufferBindingSize is 128 MiB; SwiftShader and real GPUs offer more.
    expect(ctx.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 1024 * 1024);
  });

  it('refuses an oversized buffer before allocating, naming limit, need and availability', async () => {
    ctx ??= await getDevice({ label: 'node-test' });
    const tooBig = ctx.limits.maxBufferSize + 4;
    let err: unknown;
    try {
      ctx.createBuffer('activations', tooBig);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuLimitError);
    const e = err as GpuLimitError;
    expect(e.limit).toBe('maxBufferSize');
    expect(e.needed).toBe(tooBig);
    expect(e.available).toBe(ctx.limits.maxBufferSize);
    expect(e.message).toContain("buffer 'activations'");
    expect(e.message).toContain(String(tooBig));
    expect(e.message).toContain(String(ctx.limits.maxBufferSize));
  });
});
