// rmsnorm_backward_params.wgsl — weight gradient of rmsnorm_forward.wgsl:
//   dw[c] += Σ_r dy[r, c]·x[r, c]·rstd[r]
//
// Shapes: dy, x (rows, C) row-major; rstd (rows), the forward's cache; dw (C). For Qwen3's per-head
// q_norm / k_norm (rows = B·T·NH, C = HS) the sum runs over every head of every token: one weight
// [HS] is shared by all heads.
// Threads: one thread owns one channel c and adds rows 0, 1, …, rows − 1 in order: deterministic and
// free of float atomics (WGSL has none). Adjacent threads read adjacent channels of a row.
// c = (wid.x + wid.y·nwg.x)·WG + lid, folded above 65535 workgroups, masked by `c < C`.
// Accumulates dw (`+=`), as every parameter gradient does.
override WG: u32 = 64;

struct Dims { rows: u32, C: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = (wid.x + wid.y * nwg.x) * WG + lid;
  if (c >= dims.C) { return; }
  var gw = 0.0;
  for (var r = 0u; r < dims.rows; r++) {
    gw += dy[r * dims.C + c] * x[r * dims.C + c] * rstd[r];
  }
  dw[c] += gw;
}
