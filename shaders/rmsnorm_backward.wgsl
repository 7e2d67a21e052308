// rmsnorm_backward.wgsl — input gradient of rmsnorm_forward.wgsl:
//   n = x·rstd,  dn = w·dy,  dx = rstd·(dn − n·mean_C(dn·n))
// (LayerNorm's formula without the mean terms: RMSNorm does not centre.)
//
// Shapes: dy, x, dx (rows, C) row-major; w (C); rstd (rows), the forward's cache. Per-head norms use
// rows = B·T·NH, C = HS, as the forward.
// Threads: one workgroup of WG threads (a power of two) per row; row = wid.x + wid.y·nwg.x, folded
// above 65535 rows. Thread lid takes columns lid, lid + WG, …; mean_C(dn·n) is a tree reduction in
// workgroup memory, in a fixed order (deterministic).
// dw is rmsnorm_backward_params.wgsl's job (one thread per channel, no float atomics).
// Writes dx with `=`; ACCUMULATE_DX adds (`+=`), for a gradient that already holds the residual's.
override WG: u32 = 64;
override ACCUMULATE_DX: bool = false;

struct Dims { rows: u32, C: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

// reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl (appended by the descriptor).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform per workgroup, so the barriers below stay legal
  let base = row * dims.C;
  let s = rstd[row];
  var acc = 0.0;
  for (var c = lid; c < dims.C; c += WG) {
    acc += w[c] * dy[base + c] * x[base + c] * s;
  }
  let dnn = reduceSum(lid, acc) / f32(dims.C); // mean_C(dn·n)
  for (var c = lid; c < dims.C; c += WG) {
    let g = (w[c] * dy[base + c] - x[base + c] * s * dnn) * s;
    if (ACCUMULATE_DX) {
      dx[base + c] += g;
    } else {
      dx[base + c] = g;
    }
  }
}
