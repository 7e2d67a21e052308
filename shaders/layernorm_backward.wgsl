// layernorm_backward.wgsl — input gradient of layernorm_forward.wgsl (llm.c layernorm_backward):
//   norm = (x − mean)·rstd,  dnorm = w·dy,
//   dx = rstd·(dnorm − mean_C(dnorm) − norm·mean_C(dnorm·norm))
//
// Shapes: dy, x, dx (rows, C) row-major with rows = B·T; w (C); mean, rstd (rows), the forward's cache.
// Threads: one workgroup of WG threads (a power of two) per row; row = wid.x + wid.y·nwg.x, folded
// above 65535 rows. Thread lid takes columns lid, lid + WG, …; both row means come from one tree
// reduction of vec2 partial sums in workgroup memory, in a fixed order (deterministic).
// dw and db are layernorm_backward_params.wgsl's job (one thread per channel, no float atomics).
// Writes dx with `=`; ACCUMULATE_DX adds (`+=`), as llm.c does on the residual stream.
override WG: u32 = 64;
override ACCUMULATE_DX: bool = false;

struct Dims { rows: u32, C: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

var<workgroup> partial: array<vec2<f32>, WG>;

/** Σ of every thread's v; called by the whole workgroup (it holds barriers). */
fn workgroupSum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  return partial[0];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform per workgroup, so the barriers below stay legal
  let base = row * dims.C;
  let m = mean[row];
  let s = rstd[row];
  var acc = vec2<f32>(0.0);
  for (var c = lid; c < dims.C; c += WG) {
    let dnorm = w[c] * dy[base + c];
    acc += vec2<f32>(dnorm, dnorm * (x[base + c] - m) * s);
  }
  // (mean_C(dnorm), mean_C(dnorm·norm))
  let means = workgroupSum2(acc, lid) / f32(dims.C);
  for (var c = lid; c < dims.C; c += WG) {
    let norm = (x[base + c] - m) * s;
    let g = (w[c] * dy[base + c] - means.x - norm * means.y) * s;
    if (ACCUMULATE_DX) {
      dx[base + c] += g;
    } else {
      dx[base + c] = g;
    }
  }
}
