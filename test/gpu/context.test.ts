// The GPU layer: limit checks before allocation, the pipeline cache, labels, and typed device events.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context';
import { getDevice } from '../../src/gpu/device';
import { GpuLimitError, GpuOutOfMemoryError, GpuPipelineError, GpuValidationError, KernelShapeError } from '../../src/gpu/errors';
import type { GpuEvent } from '../../src/gpu/events';
import { type KernelDescriptor, u32 } from '../../src/gpu/kernel';
import { matmulKernel } from '../../src/kernels/matmul';
import { testContext } from '../helpers/gpu';
import { expectUncapturedGpuErrors } from '../helpers/gpuErrors';

describe('GpuContext', () => {
  it('refuses buffers beyond maxBufferSize before allocating', async () => {
    const ctx = await testContext();
    expect(() => ctx.createBuffer('too-big', ctx.limits.maxBufferSize + 4)).toThrow(GpuLimitError);
  });

  it('catches an invalid allocation in an error scope and names what was being built', async () => {
    const ctx = await testContext();
    // MAP_READ may only be combined with COPY_DST: WebGPU rejects this buffer with a validation error.
    const bad = () => ctx.device.createBuffer({ label: 'bad', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await expect(ctx.allocating('the test model', bad)).rejects.toThrow(GpuValidationError);
    await expect(ctx.allocating('the test model', bad)).rejects.toThrow(/^the test model: /);
    const ok = await ctx.allocating('a small buffer', () => ctx.createBuffer('ok', 64));
    expect(ok.size).toBe(64);
    ok.destroy();
  });

  it('words an out-of-memory scope error with the bytes asked for', () => {
    const e = new GpuOutOfMemoryError('the GPT-2 engine (batch 8 × 64 tokens, rank 8)', 3 * 2 ** 30, 'Out of memory');
    expect(e.message).toMatch(/GPT-2 engine \(batch 8 × 64 tokens, rank 8\): the GPU ran out of memory while allocating 3221225472 bytes \(3072\.0 MiB\)/);
  });

  it('checks the binding limit separately from the buffer limit', () => {
    // A device whose bindings are smaller than its buffers (common on real GPUs; SwiftShader has both 1 GiB).
    const fake = { limits: { maxBufferSize: 1000, maxStorageBufferBindingSize: 500 } };
    const check = (bytes: number, storage?: boolean) => GpuContext.prototype.checkBufferSize.call(fake, bytes, 'qkv', storage);
    expect(() => check(600)).toThrow(/qkv needs maxStorageBufferBindingSize of 600 bytes but this device allows 500 bytes/);
    expect(() => check(600, false)).not.toThrow();
    expect(() => check(1200, false)).toThrow(/maxBufferSize of 1200 bytes but this device allows 1000 bytes/);
    expect(() => check(500)).not.toThrow();
  });

  it('refuses a dispatch beyond maxComputeWorkgroupsPerDimension before encoding it', async () => {
    const ctx = await testContext();
    const huge = { M: 64, N: 4 * 16 * (ctx.limits.maxComputeWorkgroupsPerDimension + 1), K: 4 };
    const buf = ctx.createBuffer('x', 16);
    await expect(ctx.prepare(matmulKernel, huge, { a: buf, b: buf, bias: buf, c: buf })).rejects.toThrow(
      /maxComputeWorkgroupsPerDimension/,
    );
  });

  it('compiles one pipeline per key and labels it with the key', async () => {
    const ctx = await testContext();
    const s = { M: 5, N: 6, K: 7 };
    const p1 = await ctx.pipeline(matmulKernel, s);
    const p2 = await ctx.pipeline(matmulKernel, { M: 9, N: 10, K: 11 });
    const p3 = await ctx.pipeline(matmulKernel, { ...s, transB: true });
    expect(p2).toBe(p1);
    expect(p3).not.toBe(p1);
    expect(p1.label).toBe(matmulKernel.key(s));
  });

  it('names a missing buffer binding', async () => {
    const ctx = await testContext();
    const buf = ctx.createBuffer('x', 16);
    await expect(ctx.prepare(matmulKernel, { M: 1, N: 1, K: 1 }, { a: buf, b: buf, c: buf })).rejects.toThrow(
      KernelShapeError,
    );
  });

  it('reports a shader that fails to compile with file, line and message', async () => {
    const ctx = await testContext();
    const broken: KernelDescriptor<object> = {
      name: 'broken_test',
      wgsl: '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }',
      bindings: [],
      dispatch: () => [1, 1, 1],
      key: () => 'broken_test',
    };
    let err: unknown;
    try {
      await ctx.pipeline(broken, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuPipelineError);
    expect((err as Error).message).toMatch(/broken_test\.wgsl:1:\d+ error: /);
    // A failed compile is not cached: asking again fails again (it once hung), and others still compile.
    await expect(ctx.pipeline(broken, {})).rejects.toThrow(GpuPipelineError);
    await expect(ctx.pipeline(matmulKernel, { M: 3, N: 3, K: 3, transA: true })).resolves.toBeDefined();
  });

  it('turns uncaptured validation errors and device loss into typed events', async () => {
    const uncaptured = expectUncapturedGpuErrors(); // provoked on purpose below
    const ctx = await getDevice({ label: 'events-test' });
    const events: GpuEvent[] = [];
    ctx.events.on((e) => events.push(e));
    const bad: KernelDescriptor<object> = {
      name: 'uniform_only', wgsl: 'struct D { n: u32 } @group(0) @binding(0) var<uniform> d: D;\n@compute @workgroup_size(1) fn main() { _ = d.n; }',
      bindings: ['d:uniform'], uniforms: () => [u32(1)], dispatch: () => [1, 1, 1], key: () => 'uniform_only',
    };
    const launch = await ctx.prepare(bad, {}, {});
    // Encoding a destroyed uniform buffer is a validation error nobody scoped: it must surface as an event.
    launch.destroy();
    ctx.submit([launch]);
    await ctx.finish();
    await new Promise((r) => setTimeout(r, 50));
    expect(events.some((e) => e.type === 'uncaptured-error' && e.kind === 'validation')).toBe(true);
    expect(uncaptured.some((m) => m.startsWith("device 'events-test': GPUValidationError"))).toBe(true);
    ctx.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(events.some((e) => e.type === 'device-lost' && e.reason === 'destroyed')).toBe(true);
    expect(ctx.isLost).toBe(true);
  });
});
