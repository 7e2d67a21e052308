// Runs inside Chromium: the engine's matmul and tfjs-webgpu's matMul on the same adapter, in one page.
// Each engine gets its own GPUDevice from the same adapter; they take turns, never overlapping.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { getDevice } from '../src/gpu/device';
import type { KernelDescriptor } from '../src/kernels/kernel';
import { fitsVec4, matmulKernel, matmulVariant, matmulVec4Kernel, matmulVec4x8Kernel } from '../src/kernels/matmul';
import type { MatmulShape } from '../src/ref/matmul';
import { type BenchReport, type CaseResult, GPT2_CASES, type MatmulCase, SQUARE_CASES, flops } from './cases';
import { seededUniform } from '../src/ref/seeded';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const storedA = (s: MatmulShape) => (s.transA ? [s.K, s.M] : [s.M, s.K]);
const storedB = (s: MatmulShape) => (s.transB ? [s.N, s.K] : [s.K, s.N]);

/** Times `iters` back-to-back products, `reps` times; returns the median ms per product. */
async function timeEngine(
  kernel: KernelDescriptor<MatmulShape>, s: MatmulShape, a: Float32Array, b: Float32Array, iters: number, reps: number,
) {
  const ctx = await getDevice({ label: 'bench-engine' });
  const bufs = { a: ctx.upload('a', a), b: ctx.upload('b', b), c: ctx.createBuffer('c', s.M * s.N * 4) };
  const launch = await ctx.prepare(kernel, s, { ...bufs, bias: bufs.a });
  ctx.submit([launch]);
  await ctx.readF32(bufs.c); // warm-up, including pipeline compilation
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    ctx.submit(Array(iters).fill(launch));
    await ctx.readF32(bufs.c);
    times.push((performance.now() - t0) / iters);
  }
  const out = await ctx.readF32(bufs.c);
  ctx.destroy();
  return { ms: median(times), out };
}

async function timeTfjs(s: MatmulShape, a: Float32Array, b: Float32Array, iters: number, reps: number) {
  const ta = tf.tensor2d(a, storedA(s) as [number, number]);
  const tb = tf.tensor2d(b, storedB(s) as [number, number]);
  const run = () => tf.matMul(ta, tb, !!s.transA, !!s.transB);
  let c = run();
  await c.data(); // warm-up, including shader compilation
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) {
      c.dispose();
      c = run();
    }
    await c.data();
    times.push((performance.now() - t0) / iters);
  }
  const out = (await c.data()) as Float32Array;
  tf.dispose([ta, tb, c]);
  return { ms: median(times), out };
}

async function runCase(cse: MatmulCase, reps: number, log: (s: string) => void): Promise<CaseResult> {
  const s = cse.shape;
  const a = seededUniform(s.M * s.K, 1);
  const b = seededUniform(s.K * s.N, 2);
  // Enough back-to-back products that each timed rep is well above submit/readback overhead.
  const iters = Math.max(1, Math.min(20, Math.round(2e8 / flops(s))));
  const engine = await timeEngine(matmulVariant(s), s, a, b, iters, reps);
  const tfjs = await timeTfjs(s, a, b, iters, reps);
  let maxAbsDiff = 0;
  for (let i = 0; i < engine.out.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(engine.out[i] - tfjs.out[i]));
  const gf = (ms: number) => flops(s) / (ms * 1e6);
  const r: CaseResult = {
    name: cse.name, M: s.M, N: s.N, K: s.K, layout: `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`,
    engineMs: engine.ms, tfjsMs: tfjs.ms, engineGflops: gf(engine.ms), tfjsGflops: gf(tfjs.ms),
    ratio: tfjs.ms / engine.ms, maxAbsDiff,
  };
  log(`${cse.name}: engine ${r.engineGflops.toFixed(2)} GFLOP/s, tfjs ${r.tfjsGflops.toFixed(2)} GFLOP/s`);
  return r;
}

/** Kernel lab (STYLE §12): every matmul version on the same cases, GFLOP/s only. */
async function runLab(opts: { reps?: number }): Promise<Record<string, Record<string, number>>> {
  const versions: Record<string, KernelDescriptor<MatmulShape>> = {
    'v3 scalar 4×4': matmulKernel, 'v4 vec4 4×4': matmulVec4Kernel, 'v5 vec4 4×8': matmulVec4x8Kernel,
  };
  const out: Record<string, Record<string, number>> = {};
  for (const c of [...SQUARE_CASES, ...GPT2_CASES]) {
    out[c.name] = {};
    const a = seededUniform(c.shape.M * c.shape.K, 1);
    const b = seededUniform(c.shape.K * c.shape.N, 2);
    const iters = Math.max(1, Math.min(20, Math.round(2e8 / flops(c.shape))));
    for (const [v, k] of Object.entries(versions)) {
      if (k !== matmulKernel && !fitsVec4(c.shape)) continue;
      const { ms } = await timeEngine(k, c.shape, a, b, iters, opts.reps ?? 3);
      out[c.name][v] = flops(c.shape) / (ms * 1e6);
      console.log(`[bench] ${c.name} ${v}: ${out[c.name][v].toFixed(2)} GFLOP/s`);
    }
  }
  return out;
}

async function runBench(opts: { quick?: boolean; reps?: number }): Promise<BenchReport> {
  const log = (line: string) => {
    document.getElementById('log')!.textContent += `\n${line}`;
    console.log(`[bench] ${line}`);
  };
  await tf.setBackend('webgpu');
  await tf.ready();
  const probe = await getDevice({ label: 'bench-probe' });
  const adapter = probe.describe();
  probe.destroy();
  const cases = opts.quick ? [SQUARE_CASES[0], GPT2_CASES[1]] : [...SQUARE_CASES, ...GPT2_CASES];
  const results: CaseResult[] = [];
  const kernelKeys: Record<string, string> = {};
  for (const c of cases) {
    kernelKeys[c.name] = matmulVariant(c.shape).key(c.shape);
    results.push(await runCase(c, opts.reps ?? 3, log));
  }
  return { adapter, userAgent: navigator.userAgent, kernelKeys, results };
}

(window as unknown as { runBench: typeof runBench }).runBench = runBench;
(window as unknown as { runLab: typeof runLab }).runLab = runLab;
(window as unknown as { benchReady: boolean }).benchReady = true;
