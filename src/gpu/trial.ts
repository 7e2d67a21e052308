// The device side of a selection trial (./autotune.ts): one prepared launch timed back to back, the buffers a
// trial made freed with it, and the element-wise check its validation ends with. The matmul, packed-matmul and
// row-kernel trials (src/kernels/{matmul_select,packed_variants,row_select}.ts) differ only in what they bind
// and what they compare.
import type { Trial } from './autotune';
import type { GpuContext, Launch } from './context';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Throws at the first element farther from the reference than atol + rtol·|want| (NaN included). */
export function assertClose(got: Float32Array, want: Float32Array, tol: Tolerance, what = 'element'): void {
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol.atol + tol.rtol * Math.abs(want[i]))) {
      throw new Error(`${what} ${i}: ${got[i]} vs reference ${want[i]} (|Δ| ${d.toExponential(2)})`);
    }
  }
}

/** A Trial around `timed`: `run` submits it `iters` times and waits; `dispose` destroys it and every buffer in `made`. */
export function launchTrial(ctx: GpuContext, timed: Launch, made: GPUBuffer[], flops: number, validate: () => Promise<void>): Trial {
  return {
    flops,
    validate,
    async run(iters) {
      ctx.submit(Array(iters).fill(timed), timed.label);
      await ctx.finish();
    },
    dispose() {
      timed.destroy();
      made.forEach((b) => b.destroy());
    },
  };
}
