// nonfinite reference — counts NaN/±Inf elements and finds the first, the spec of nonfinite_count.wgsl.
// result = [count, first flat index or 0xffffffff]; like the kernel it accumulates into result, so
// several tensors can share one result (indexBase offsets each tensor's indices).
import type { Arr } from './types';

export interface NonfiniteShape {
  n: number;
  xOffset: number;
  indexBase: number;
  /** Test hook: fold the workgroup grid above this many groups per dimension (default 65535). */
  maxWorkgroupsPerDim?: number;
}

export const NO_INDEX = 0xffffffff;

export function nonfiniteReset(result: Uint32Array): void {
  result[0] = 0;
  result[1] = NO_INDEX;
}

/** A Float32Array is tested on its bits (exponent all ones), as the shader does; Float64 by value. */
export function nonfiniteCount(result: Uint32Array, x: Arr, s: NonfiniteShape): void {
  const bits = x instanceof Float32Array ? new Uint32Array(x.buffer, x.byteOffset, x.length) : null;
  for (let i = 0; i < s.n; i++) {
    const j = s.xOffset + i;
    const bad = bits ? (bits[j] & 0x7f800000) === 0x7f800000 : !Number.isFinite(x[j]);
    if (bad) {
      result[0]++;
      result[1] = Math.min(result[1], s.indexBase + i);
    }
  }
}
