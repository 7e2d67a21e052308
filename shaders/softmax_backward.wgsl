// softmax_backward.wgsl — dx[r, n] = y[r, n] · (dy[r, n] − Σ_k dy[r, k] · y[r, k])
//
// The Jacobian-vector product of y = softmax(x): ∂y_k/∂x_n = y_k (δ_kn − y_n), so
// dx_n = Σ_k dy_k y_k (δ_kn − y_n) = y_n (dy_n − ⟨dy, y⟩).
// Shapes: y (the forward output, cached), dy, dx (rows, N), row-major f32.
// Threads: one workgroup of WG threads per row (WG a power of two); thread i owns columns
// i, i + WG, ...; ⟨dy, y⟩ is a tree reduction in workgroup memory. Rows fold over (x, y) workgroup
// ids when rows > 65535: row = wid.x + wid.y · nwg.x.
// Writes dx with `=` (an activation gradient).
override WG: u32 = 64;

struct Dims { rows: u32, N: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// reduceMax / reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl (appended by the descriptor).

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform: the same for the whole workgroup
  let base = row * dims.N;
  var d = 0.0;
  for (var n = lid; n < dims.N; n += WG) { d += dy[base + n] * y[base + n]; }
  let dot = reduceSum(lid, d);
  for (var n = lid; n < dims.N; n += WG) {
    dx[base + n] = y[base + n] * (dy[base + n] - dot);
  }
}
