// reduce_sum_cols.wgsl — out[r] = Σ_c x[r, c] (ACCUMULATE: out[r] += Σ_c x[r, c]), row totals.
//
// Shapes: x (rows, cols) row-major; out (rows).
// Threads: one workgroup of WG threads (a power of two) per row; row = wid.x + wid.y·nwg.x, folded
// above 65535 rows. Thread lid adds columns lid, lid + WG, … in order, then the WG partial sums meet
// in a tree reduction in workgroup memory, in a fixed order (deterministic, no atomics).
// Caches nothing. Writes out with `=`; ACCUMULATE adds (`+=`).
override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Dims { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform per workgroup, so the barriers below stay legal
  let base = row * dims.cols;
  var acc = 0.0;
  for (var c = lid; c < dims.cols; c += WG) { acc += x[base + c]; }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (ACCUMULATE) {
      out[row] += partial[0];
    } else {
      out[row] = partial[0];
    }
  }
}
