// One timer per engine for one matmul case: warm up once, then time repetitions on demand, so the
// caller can interleave engines rep by rep (load on a shared machine then hits both alike).
import * as tf from '@tensorflow/tfjs-core';
import type { GpuContext } from '../src/gpu/context';
import type { KernelDescriptor } from '../src/gpu/kernel';
import type { MatmulShape } from '../src/ref/matmul';

export interface MatmulTimer {
  /** Milliseconds per product, averaged over `iters` back-to-back products ended by one readback. */
  rep(iters: number): Promise<number>;
  output(): Promise<Float32Array>;
  dispose(): void;
}

export async function engineTimer(
  ctx: GpuContext, kernel: KernelDescriptor<MatmulShape>, s: MatmulShape, a: Float32Array, b: Float32Array,
): Promise<MatmulTimer> {
  const bufs = { a: ctx.upload('a', a), b: ctx.upload('b', b), c: ctx.createBuffer('c', s.M * s.N * 4) };
  const launch = await ctx.prepare(kernel, s, { ...bufs, bias: bufs.a });
  ctx.submit([launch]);
  await ctx.readF32(bufs.c); // warm-up, including pipeline compilation
  return {
    async rep(iters) {
      const t0 = performance.now();
      ctx.submit(Array(iters).fill(launch));
      await ctx.readF32(bufs.c); // the full output, as tfjs's data() reads it
      return (performance.now() - t0) / iters;
    },
    output: () => ctx.readF32(bufs.c),
    dispose() {
      launch.destroy();
      for (const buf of Object.values(bufs)) buf.destroy();
    },
  };
}

export async function tfjsTimer(s: MatmulShape, a: Float32Array, b: Float32Array): Promise<MatmulTimer> {
  const ta = tf.tensor2d(a, (s.transA ? [s.K, s.M] : [s.M, s.K]) as [number, number]);
  const tb = tf.tensor2d(b, (s.transB ? [s.N, s.K] : [s.K, s.N]) as [number, number]);
  const run = () => tf.matMul(ta, tb, !!s.transA, !!s.transB);
  let c = run();
  await c.data(); // warm-up, including shader compilation
  return {
    async rep(iters) {
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) {
        c.dispose();
        c = run();
      }
      await c.data();
      return (performance.now() - t0) / iters;
    },
    output: async () => (await c.data()) as Float32Array,
    dispose: () => tf.dispose([ta, tb, c]),
  };
}
