// strided_copy reference — the spec of strided_copy.wgsl: a (batch, rows, cols) block moved between
// two strided layouts, dst[dOff + z·dBatch + r·dRow + c] = (or +=) src[sOff + z·sBatch + r·sRow + c].
// Every stride and offset counts elements. A batch stride of 0 broadcasts one matrix to all z.
import type { Arr } from './types';

export interface StridedCopyShape {
  batch: number;
  rows: number;
  cols: number;
  srcOffset?: number;
  srcRowStride: number;
  srcBatchStride?: number;
  dstOffset?: number;
  dstRowStride: number;
  dstBatchStride?: number;
  /** += instead of =. */
  accumulate?: boolean;
}

export function stridedCopy(dst: Arr, src: Arr, s: StridedCopyShape): void {
  const so = s.srcOffset ?? 0, sb = s.srcBatchStride ?? 0;
  const d0 = s.dstOffset ?? 0, db = s.dstBatchStride ?? 0;
  for (let z = 0; z < s.batch; z++) {
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.cols; c++) {
        const v = src[so + z * sb + r * s.srcRowStride + c];
        const d = d0 + z * db + r * s.dstRowStride + c;
        dst[d] = s.accumulate ? dst[d] + v : v;
      }
    }
  }
}

/** One past the largest element index the copy touches in src and in dst (buffer-size checks). */
export function stridedCopyExtent(s: StridedCopyShape): { src: number; dst: number } {
  const last = (off: number, batchStride: number, rowStride: number) =>
    off + (s.batch - 1) * batchStride + (s.rows - 1) * rowStride + s.cols;
  return {
    src: last(s.srcOffset ?? 0, s.srcBatchStride ?? 0, s.srcRowStride),
    dst: last(s.dstOffset ?? 0, s.dstBatchStride ?? 0, s.dstRowStride),
  };
}
