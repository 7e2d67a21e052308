// layernorm_backward_params.wgsl — parameter gradients of layernorm_forward.wgsl:
//   dw[c] += Σ_r dy[r, c]·norm[r, c],  db[c] += Σ_r dy[r, c],  norm = (x − mean[r])·rstd[r]
//
// Shapes: dy, x (rows, C) row-major with rows = B·T; mean, rstd (rows), the forward's cache; dw, db (C).
// Threads: one thread owns one channel c and adds rows 0, 1, …, rows − 1 in order: deterministic and
// free of float atomics (WGSL has none). Adjacent threads read adjacent channels of a row.
// c = (wid.x + wid.y·nwg.x)·WG + lid, folded above 65535 workgroups, masked by `c < C`.
// Accumulates dw and db (`+=`), as every parameter gradient does.
override WG: u32 = 64;

struct Dims { rows: u32, C: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dw: array<f32>;
@group(0) @binding(6) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = (wid.x + wid.y * nwg.x) * WG + lid;
  if (c >= dims.C) { return; }
  var gw = 0.0;
  var gb = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    let g = dy[r * dims.C + c];
    gw += g * (x[r * dims.C + c] - mean[r]) * rstd[r];
    gb += g;
  }
  dw[c] += gw;
  db[c] += gb;
}
