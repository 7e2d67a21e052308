// layernorm_forward.wgsl — y = (x − mean)·rstd·w + b over the last dim C (torch.nn.LayerNorm).
//   mean = Σ_c x / C,  var = Σ_c (x − mean)² / C (biased, as torch),  rstd = 1/√(var + eps)
//   (eps from the uniform: GPT-2 1e-5, ViT 1e-12). Variance takes a second pass over the centred row
//   rather than E[x²] − mean², which cancels when |mean| ≫ std.
//
// Shapes: x, y (rows, C) row-major with rows = B·T; w, b (C); mean, rstd (rows).
// Threads: one workgroup of WG threads (a power of two) per row; row = wid.x + wid.y·nwg.x, the
// workgroup count folded into (x, y) above 65535 rows. Thread lid sums columns lid, lid + WG, …;
// the WG partial sums meet in a tree reduction in workgroup memory, in a fixed order (deterministic).
// Caches mean and rstd per row for layernorm_backward. Writes y, mean, rstd with `=`.
override WG: u32 = 64;

struct Dims { rows: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

var<workgroup> partial: array<f32, WG>;

/** Σ of every thread's v; called by the whole workgroup (it holds barriers). */
fn workgroupSum(v: f32, lid: u32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // everyone has read partial[0] before the next call overwrites it
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform per workgroup, so the barriers below stay legal
  let base = row * dims.C;
  let invC = 1.0 / f32(dims.C);
  var acc = 0.0;
  for (var c = lid; c < dims.C; c += WG) { acc += x[base + c]; }
  let m = workgroupSum(acc, lid) * invC;
  var sq = 0.0;
  for (var c = lid; c < dims.C; c += WG) {
    let d = x[base + c] - m;
    sq += d * d;
  }
  let s = inverseSqrt(workgroupSum(sq, lid) * invC + dims.eps);
  for (var c = lid; c < dims.C; c += WG) {
    y[base + c] = (x[base + c] - m) * s * w[c] + b[c];
  }
  if (lid == 0u) {
    mean[row] = m;
    rstd[row] = s;
  }
}
