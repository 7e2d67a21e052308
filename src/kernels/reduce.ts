// reduce family: deterministic sums of a (rows, cols) matrix over rows (bias gradients) or over
// columns (row totals). See shaders/reduce_sum_rows.wgsl and shaders/reduce_sum_cols.wgsl.
import colsWgsl from '../../shaders/reduce_sum_cols.wgsl?raw';
import rowsWgsl from '../../shaders/reduce_sum_rows.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import type { ReduceShape } from '../ref/reduce';
import { type FoldOption, checkCount, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, fold2d, u32 } from '../gpu/kernel';

export type { ReduceShape };

type Shape = ReduceShape & FoldOption;

/** reduce_sum_rows: threads per workgroup, one thread per column. */
const ROWS_WG = 64;
/** reduce_sum_cols: threads per row; wide rows get more (the tree reduction needs a power of two). */
const colsWorkgroup = (s: ReduceShape): number => (s.cols >= 1024 ? 256 : 64);

export const reduceSumRowsKernel: KernelDescriptor<Shape> = {
  name: 'reduce_sum_rows',
  wgsl: rowsWgsl,
  bindings: ['dims:uniform', 'x:read', 'out:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.cols)],
  overrides: (s) => ({ WG: ROWS_WG, ACCUMULATE: s.accumulate ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.cols, s, ROWS_WG), // one thread per column
  key: (s) => `reduce_sum_rows/wg${ROWS_WG}${s.accumulate ? '/acc' : ''}`,
};

export const reduceSumColsKernel: KernelDescriptor<Shape> = {
  name: 'reduce_sum_cols',
  wgsl: colsWgsl,
  bindings: ['dims:uniform', 'x:read', 'out:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.cols)],
  overrides: (s) => ({ WG: colsWorkgroup(s), ACCUMULATE: s.accumulate ? 1 : 0 }),
  dispatch: (s) => fold2d(s.rows, s.maxGroupsPerDim), // one workgroup per row
  key: (s) => `reduce_sum_cols/wg${colsWorkgroup(s)}${s.accumulate ? '/acc' : ''}`,
};

export interface ReduceBuffers {
  x: BufferBinding; // (rows, cols)
  out: BufferBinding; // (cols) for sum over rows, (rows) for sum over columns
}

function checkShape(kernel: string, s: ReduceShape): void {
  checkCount(kernel, 'rows', s.rows);
  checkCount(kernel, 'cols', s.cols);
}

export function prepareReduceSumRows(ctx: GpuContext, s: Shape, buf: ReduceBuffers) {
  checkShape('reduce_sum_rows', s);
  return ctx.prepare(reduceSumRowsKernel, s, { x: buf.x, out: buf.out });
}

export function prepareReduceSumCols(ctx: GpuContext, s: Shape, buf: ReduceBuffers) {
  checkShape('reduce_sum_cols', s);
  return ctx.prepare(reduceSumColsKernel, s, { x: buf.x, out: buf.out });
}

export async function runReduceSumRows(ctx: GpuContext, s: Shape, buf: ReduceBuffers): Promise<void> {
  submitOnce(ctx, await prepareReduceSumRows(ctx, s, buf));
}

export async function runReduceSumCols(ctx: GpuContext, s: Shape, buf: ReduceBuffers): Promise<void> {
  submitOnce(ctx, await prepareReduceSumCols(ctx, s, buf));
}
