// The kernels that `enable f16` (matmul_packed_f16, matmul_f16) cannot compile on SwiftShader, which has no
// `shader-f16`, so the GPU project only checks that they are skipped there. Here they are compiled by
// Dawn's null backend (the `webgpu` package), which offers `shader-f16` and validates WGSL and pipelines
// without running anything: every shader source as its descriptor builds it, with each override
// combination the engine uses. A deliberately broken source must fail, so the check cannot pass vacuously.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelDescriptor } from '../../src/gpu/kernel';
import { matmulF16Kernel } from '../../src/kernels/matmul_variants';
import { matmulPackedF16Kernel } from '../../src/kernels/packed_variants';

let device: GPUDevice;

beforeAll(async () => {
  const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> };
  for (const [k, v] of Object.entries(dawn.globals)) (globalThis as Record<string, unknown>)[k] ??= v;
  const adapter = await dawn.create(['backend=null']).requestAdapter();
  expect(adapter?.features.has('shader-f16'), "Dawn's null backend offers shader-f16").toBe(true);
  device = await adapter!.requestDevice({ requiredFeatures: ['shader-f16'] });
});

// Dawn's Node bindings can bring the worker down at exit with a device still alive (a clean-clone CI run lost this
// file's worker once, "Worker exited unexpectedly", while it passes alone): destroy it, as test/node/device.test.ts does.
afterAll(() => device?.destroy());

/** Compile errors and pipeline-creation errors of `code` with `constants`. */
async function problems(code: string, constants: Record<string, number>): Promise<string[]> {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const out = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}`);
  device.pushErrorScope('validation');
  device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants } });
  const err = await device.popErrorScope();
  if (err) out.push(`pipeline: ${err.message}`);
  return out;
}

const layouts = [{}, { transB: true }, { transB: true, hasBias: true }, { hasBias: true, beta: 1 }];
const outlines = [{ M: 128, N: 64, K: 32 }, { M: 8, N: 64, K: 32 }, { M: 128, N: 8, K: 32 }]; // the three workgroup shapes
const CASES: [KernelDescriptor<never>, Record<string, unknown>[]][] = [
  [matmulPackedF16Kernel as KernelDescriptor<never>, layouts.flatMap((l) => outlines.map((o) => ({ ...o, ...l, f16: true })))],
  [matmulF16Kernel as KernelDescriptor<never>, [...layouts, { transA: true }, { transA: true, transB: true }].map((l) => ({ ...outlines[0], ...l }))],
];

describe('f16 shaders compile where shader-f16 exists (Dawn null backend)', () => {
  for (const [kernel, shapes] of CASES) {
    it(`${kernel.name}: ${shapes.length} override combinations`, async () => {
      for (const s of shapes) {
        const constants = Object.fromEntries(Object.entries(kernel.overrides?.(s as never) ?? {}).map(([k, v]) => [k, Number(v)]));
        expect(await problems(kernel.wgsl, constants), `${kernel.name} ${JSON.stringify(s)}`).toEqual([]);
      }
    });
  }

  it('a broken f16 source is reported (the check can fail)', async () => {
    const broken = matmulPackedF16Kernel.wgsl.replace('return vec4<f32>(w[i]);', 'return w[i];'); // vec4<f16> where vec4<f32> is due
    expect(broken).not.toBe(matmulPackedF16Kernel.wgsl);
    expect((await problems(broken, {})).length).toBeGreaterThan(0);
  });
});
