// strided_copy family: a (batch, rows, cols) block copied (or added) between strided layouts — the
// glue of the ViT engine (separate q/k/v ↔ packed qkv, patches ↔ tokens, CLS gather/scatter,
// position embeddings broadcast over the batch). See shaders/strided_copy.wgsl.
import stridedCopyWgsl from '../../shaders/strided_copy.wgsl?raw';
import type { GpuContext } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type StridedCopyShape, stridedCopyExtent } from '../ref/strided_copy';
import { type FoldOption, flatDispatch, submitOnce } from './elementwise';
import { type KernelDescriptor, u32 } from '../gpu/kernel';

export type { StridedCopyShape };

type Shape = StridedCopyShape & FoldOption;

const WG = 256;

export const stridedCopyKernel: KernelDescriptor<Shape> = {
  name: 'strided_copy',
  wgsl: stridedCopyWgsl,
  bindings: ['dims:uniform', 'src:read', 'dst:rw'],
  uniforms: (s) => [u32(s.batch), u32(s.rows), u32(s.cols),
    u32(s.srcOffset ?? 0), u32(s.srcRowStride), u32(s.srcBatchStride ?? 0),
    u32(s.dstOffset ?? 0), u32(s.dstRowStride), u32(s.dstBatchStride ?? 0)],
  overrides: (s) => ({ WG, ACCUMULATE: s.accumulate ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.batch * s.rows * s.cols, s, WG), // one thread per element
  key: (s) => `strided_copy/wg${WG}${s.accumulate ? '/acc' : ''}`,
};

export interface StridedCopyBuffers {
  src: GPUBuffer;
  dst: GPUBuffer;
}

/** Refuses empty or non-integer shapes, u32 overflow and copies that would run past either buffer. */
export function checkStridedCopy(s: StridedCopyShape, buf?: StridedCopyBuffers): void {
  const fields = ['batch', 'rows', 'cols', 'srcOffset', 'srcRowStride', 'srcBatchStride',
    'dstOffset', 'dstRowStride', 'dstBatchStride'] as const;
  for (const f of fields) {
    const v = s[f] ?? 0;
    const min = f === 'batch' || f === 'rows' || f === 'cols' ? 1 : 0;
    if (!Number.isInteger(v) || v < min) throw new KernelShapeError(`strided_copy: ${f}=${v} must be an integer ≥ ${min}`);
  }
  const ext = stridedCopyExtent(s);
  if (Math.max(ext.src, ext.dst, s.batch * s.rows * s.cols) >= 2 ** 32) {
    throw new KernelShapeError('strided_copy: indices overflow u32');
  }
  if (buf && (ext.src * 4 > buf.src.size || ext.dst * 4 > buf.dst.size)) {
    throw new KernelShapeError(`strided_copy: needs ${ext.src} src / ${ext.dst} dst elements, buffers hold ${buf.src.size / 4} / ${buf.dst.size / 4}`);
  }
}

export function prepareStridedCopy(ctx: GpuContext, s: Shape, buf: StridedCopyBuffers) {
  checkStridedCopy(s, buf);
  return ctx.prepare(stridedCopyKernel, s, { src: buf.src, dst: buf.dst });
}

export async function runStridedCopy(ctx: GpuContext, s: Shape, buf: StridedCopyBuffers): Promise<void> {
  submitOnce(ctx, await prepareStridedCopy(ctx, s, buf));
}
