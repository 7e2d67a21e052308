// reduce_sum_rows.wgsl — out[c] = Σ_r x[r, c] (ACCUMULATE: out[c] += Σ_r x[r, c]).
// The bias gradient: db = Σ_{b,t} dy[b, t, :] with rows = B·T, cols = C.
//
// Shapes: x (rows, cols) row-major; out (cols).
// Threads: one thread owns one column and adds rows 0, 1, …, rows − 1 in order: deterministic and free
// of float atomics. Adjacent threads read adjacent columns of a row.
// c = (wid.x + wid.y·nwg.x)·WG + lid, folded above 65535 workgroups, masked by `c < cols`.
// Caches nothing. Writes out with `=`; ACCUMULATE adds (`+=`), as parameter gradients do.
override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Dims { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = (wid.x + wid.y * nwg.x) * WG + lid;
  if (c >= dims.cols) { return; }
  var acc = 0.0;
  for (var r = 0u; r < dims.rows; r++) { acc += x[r * dims.cols + c]; }
  if (ACCUMULATE) {
    out[c] += acc;
  } else {
    out[c] = acc;
  }
}
