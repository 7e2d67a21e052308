// softmax_forward.wgsl — y[r, n] = exp(x[r, n] − m_r) / Σ_k exp(x[r, k] − m_r),  m_r = max_k x[r, k]
//
// Shapes: x, y (rows, N), row-major f32; softmax over the last dim. Subtracting the row max keeps
// every exp ≤ 1, so no row overflows whatever its range (the numerically stable form).
// Threads: one workgroup of WG threads per row (WG a power of two); thread i owns the columns
// i, i + WG, ...; the max and the sum are tree reductions in workgroup memory. Rows are folded over
// (x, y) workgroup ids when rows > 65535: row = wid.x + wid.y · nwg.x.
// Caches nothing (softmax_backward needs only y). Writes y with `=`.
override WG: u32 = 64;

struct Dims { rows: u32, N: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

// reduceMax / reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl (appended by the descriptor).

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform: the same for the whole workgroup
  let base = row * dims.N;
  var m = LOWEST;
  for (var n = lid; n < dims.N; n += WG) { m = max(m, x[base + n]); }
  m = reduceMax(lid, m);
  var s = 0.0;
  for (var n = lid; n < dims.N; n += WG) {
    let e = exp(x[base + n] - m);
    y[base + n] = e; // read back below by this same thread only: no barrier needed
    s += e;
  }
  let inv = 1.0 / reduceSum(lid, s);
  for (var n = lid; n < dims.N; n += WG) { y[base + n] *= inv; }
}
