// Workgroup size per device for the row reductions (one workgroup per row, a tree reduction in workgroup
// memory): softmax + cross-entropy, LayerNorm and RMSNorm forward and backward (docs/kernels.md#reductions).
// The variants are the workgroup sizes; the kernel code is the same. On GPUs wide workgroups fill the
// device; on SwiftShader a workgroup of 4 (its SIMD width and subgroup size, so a barrier costs ~nothing)
// is 5–20× faster than 64 or 256, whose barriers switch between CPU coroutines. Chosen per (kernel, row
// length class) through the same selector as matmul: shipped on a CPU implementation, else checked against
// the CPU reference and timed.
import type { Candidate, Trial } from '../gpu/autotune';
import type { BufferBinding, GpuContext } from '../gpu/context';
import { assertClose, launchTrial } from '../gpu/trial';
import { isSoftwareAdapter } from '../gpu/features';
import type { KernelDescriptor } from '../gpu/kernel';
import { matmulSelection, selectorFor } from './matmul_select';

/** Workgroup sizes offered (powers of two, as the tree reductions need), in preference order on a tie. */
export const ROW_WORKGROUPS = [64, 256, 128, 32, 4] as const;

/** What a CPU implementation runs (measured, docs/kernels.md#reductions). */
export const SOFTWARE_ROW_WORKGROUP = 4;

export type RowData = Float32Array | Int32Array | Uint32Array;

/** One row kernel as the selector sees it: how to make inputs for a shape and what the reference says. */
export interface RowKernelSpec<S, D extends Record<string, RowData> = Record<string, Float32Array>> {
  name: string;
  kernel: KernelDescriptor<S & { wg?: number }>;
  /** The row length the choice depends on. */
  rowLength(s: S): number;
  /** A shape of the same row length with at most `rows` rows (check product and timed product). */
  withRows(s: S, rows: number): S;
  /** Every binding's initial contents (inputs, and outputs' prior contents for accumulating kernels). */
  inputs(s: S): D;
  /** The outputs the CPU reference computes from those inputs, by binding name. */
  reference(s: S, inputs: D): Record<string, Float32Array>;
  tolerance: { atol: number; rtol: number };
}

/** Row-length classes: the best workgroup changes with how many columns each thread walks. */
export function rowClass(n: number): string {
  const edges = [32, 128, 512, 2048, 8192];
  const e = edges.find((x) => n <= x);
  return e ? `C≤${e}` : `C>${edges[edges.length - 1]}`;
}

function rowTrial<S, D extends Record<string, RowData>>(ctx: GpuContext, spec: RowKernelSpec<S, D>, s: S, wg: number): Candidate['prepare'] {
  return async (): Promise<Trial> => {
    const made: GPUBuffer[] = [];
    const bind = async (shape: S) => {
      const inputs = spec.inputs(shape);
      const bufs: Record<string, BufferBinding> = {};
      for (const [k, v] of Object.entries(inputs)) {
        const b = ctx.upload(`tune/${k}`, v);
        made.push(b);
        bufs[k] = b;
      }
      return { inputs, bufs, launch: await ctx.prepare(spec.kernel, { ...shape, wg }, bufs) };
    };
    try {
      const timedShape = spec.withRows(s, 256);
      const timed = await bind(timedShape);
      // reductions are memory-bound: flops 0 reports time, not GFLOP/s
      return launchTrial(ctx, timed.launch, made, 0, async () => {
        const shape = spec.withRows(s, 3);
        const { inputs, bufs, launch } = await bind(shape);
        ctx.submit([launch], launch.label);
        launch.destroy();
        const want = spec.reference(shape, inputs);
        for (const [k, w] of Object.entries(want)) {
          assertClose(await ctx.readF32(bufs[k] as GPUBuffer, w.length), w, spec.tolerance, k);
        }
      });
    } catch (e) {
      made.forEach((b) => b.destroy());
      throw e;
    }
  };
}

/** The candidates for a shape on this device: the workgroup sizes its limits allow. */
export function rowCandidates<S, D extends Record<string, RowData>>(ctx: GpuContext, spec: RowKernelSpec<S, D>, s: S): Candidate[] {
  const max = Math.min(ctx.limits.maxComputeInvocationsPerWorkgroup, ctx.limits.maxComputeWorkgroupSizeX);
  return ROW_WORKGROUPS.filter((wg) => wg <= max).map((wg) => ({ id: `wg${wg}`, prepare: rowTrial(ctx, spec, s, wg) }));
}

/** The workgroup size this device uses for `spec`'s rows of this length (decided once per class). */
export async function chooseRowWorkgroup<S, D extends Record<string, RowData>>(ctx: GpuContext, spec: RowKernelSpec<S, D>, s: S): Promise<number> {
  const software = isSoftwareAdapter(ctx.adapterInfo) && !matmulSelection.tuneSoftware;
  const choice = await selectorFor(ctx).choose({
    kernel: spec.name,
    shapeClass: rowClass(spec.rowLength(s)),
    candidates: () => rowCandidates(ctx, spec, s),
    builtIn: software ? () => `wg${SOFTWARE_ROW_WORKGROUP}` : undefined,
  });
  return Number(choice.variant.slice(2));
}
