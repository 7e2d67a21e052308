// The kernels that `enable f16` (matmul_packed_f16, matmul_f16) cannot compile on SwiftShader, which has no
// `shader-f16`, so the GPU project only checks that they are skipped there. Here they are compiled by
// Dawn's null backend (the `webgpu` package), which offers `shader-f16` and validates WGSL and pipelines
// without running anything: every shader source as its descriptor builds it, with each override
// combination the engine uses. A deliberately broken source must fail, so the check cannot pass vacuously.
// Dawn runs in child processes (test/helpers/dawnCompile.mjs), one per compile: in the vitest worker it took the
// worker down in two of three clean-clone CI runs ("Worker exited unexpectedly"), and a child compiling every
// job crashed inside Dawn each time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KernelDescriptor } from '../../src/gpu/kernel';
import { matmulF16Kernel } from '../../src/kernels/matmul_variants';
import { matmulPackedF16Kernel } from '../../src/kernels/packed_variants';

const CHILD = fileURLToPath(new URL('../helpers/dawnCompile.mjs', import.meta.url));

/**
 * Compile errors and pipeline-creation errors of each job, from Dawn in a child process (test/helpers/dawnCompile.mjs).
 * A child killed by a signal before it reported is run again, at most three times in all: Dawn's Node bindings
 * crash now and then, which is not what this file tests; any other failure, or three crashes, fails the test.
 */
function compileAll(jobs: { code: string; constants: Record<string, number> }[]): { hasF16: boolean; results: string[][] } {
  // One child per job: a child compiling many pipelines crashed inside Dawn every time here, one per job did not.
  if (jobs.length > 1) {
    const each = jobs.map((j) => compileAll([j]));
    return { hasF16: each.every((e) => e.hasF16), results: each.flatMap((e) => e.results) };
  }
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const r = spawnSync(process.execPath, [CHILD], { input: JSON.stringify(jobs), encoding: 'utf8', timeout: 100_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (line) return JSON.parse(line.slice('RESULT '.length));
    if (r.signal === null || r.signal === 'SIGTERM') throw new Error(`Dawn compile child: status ${r.status}, signal ${r.signal}: ${r.stderr}`);
    last = `${r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  }
  throw new Error(`the Dawn compile child crashed three times (last: ${last})`);
}

const layouts = [{}, { transB: true }, { transB: true, hasBias: true }, { hasBias: true, beta: 1 }];
const outlines = [{ M: 128, N: 64, K: 32 }, { M: 8, N: 64, K: 32 }, { M: 128, N: 8, K: 32 }]; // the three workgroup shapes
const CASES: [KernelDescriptor<never>, Record<string, unknown>[]][] = [
  [matmulPackedF16Kernel as KernelDescriptor<never>, layouts.flatMap((l) => outlines.map((o) => ({ ...o, ...l, f16: true })))],
  [matmulF16Kernel as KernelDescriptor<never>, [...layouts, { transA: true }, { transA: true, transB: true }].map((l) => ({ ...outlines[0], ...l }))],
];

describe('f16 shaders compile where shader-f16 exists (Dawn null backend)', () => {
  it('every override combination of each f16 kernel compiles and makes a pipeline', () => {
    const jobs = CASES.flatMap(([kernel, shapes]) => shapes.map((s) => ({
      label: `${kernel.name} ${JSON.stringify(s)}`, code: kernel.wgsl,
      constants: Object.fromEntries(Object.entries(kernel.overrides?.(s as never) ?? {}).map(([k, v]) => [k, Number(v)])),
    })));
    expect(jobs.length).toBe(CASES.reduce((n, [, shapes]) => n + shapes.length, 0));
    const { hasF16, results } = compileAll(jobs);
    expect(hasF16, "Dawn's null backend offers shader-f16").toBe(true);
    expect(results.length).toBe(jobs.length);
    results.forEach((problems, i) => expect(problems, jobs[i].label).toEqual([]));
  });

  it('a broken f16 source is reported (the check can fail)', () => {
    const broken = matmulPackedF16Kernel.wgsl.replace('return vec4<f32>(w[i]);', 'return w[i];'); // vec4<f16> where vec4<f32> is due
    expect(broken).not.toBe(matmulPackedF16Kernel.wgsl);
    const { results } = compileAll([{ code: broken, constants: {} }]);
    expect(results[0].length).toBeGreaterThan(0);
  });
});
