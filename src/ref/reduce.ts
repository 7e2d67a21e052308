// reduce references — the spec of reduce_sum_rows.wgsl and reduce_sum_cols.wgsl.
// x is (rows, cols) row-major. Summing over rows gives a bias gradient (db[c] = Σ_{b,t} dy[b,t,c],
// rows = B·T, cols = C); summing over columns gives per-row totals. Both add in index order.
import type { Arr } from './types';

export interface ReduceShape {
  rows: number;
  cols: number;
  /** out += Σ … instead of out = Σ … (gradient accumulation). */
  accumulate?: boolean;
}

/** out[c] = Σ_r x[r, c], out: (cols). */
export function reduceSumRows(out: Arr, x: Arr, s: ReduceShape): void {
  for (let c = 0; c < s.cols; c++) {
    let acc = 0;
    for (let r = 0; r < s.rows; r++) acc += x[r * s.cols + c];
    out[c] = s.accumulate ? out[c] + acc : acc;
  }
}

/** out[r] = Σ_c x[r, c], out: (rows). */
export function reduceSumCols(out: Arr, x: Arr, s: ReduceShape): void {
  for (let r = 0; r < s.rows; r++) {
    let acc = 0;
    for (let c = 0; c < s.cols; c++) acc += x[r * s.cols + c];
    out[r] = s.accumulate ? out[r] + acc : acc;
  }
}
