// rmsnorm_forward.wgsl — y = (x · rsqrt(mean(x²) + eps)) · w over the last dim C (HF LlamaRMSNorm,
// Qwen2/Qwen3 RMSNorm): statistics in f32, no mean subtraction, no bias, the weight multiplied last.
//   rstd = 1/√(Σ_c x² / C + eps)   (eps from the uniform: rms_norm_eps, 1e-5 or 1e-6)
//
// Shapes: x, y (rows, C) row-major; w (C); rstd (rows). rows = B·T with C = hidden_size for the
// block and final norms; rows = B·T·NH with C = HS for Qwen3's per-head q_norm / k_norm (each head
// is a contiguous row of the (B, T, NH, HS) projection output).
// Threads: one workgroup of WG threads (a power of two) per row; row = wid.x + wid.y·nwg.x, the
// workgroup count folded into (x, y) above 65535 rows. Thread lid sums columns lid, lid + WG, …;
// the WG partial sums meet in a tree reduction in workgroup memory, in a fixed order (deterministic).
// Caches rstd per row for rmsnorm_backward and rmsnorm_backward_params. Writes y and rstd with `=`.
override WG: u32 = 64;

struct Dims { rows: u32, C: u32, eps: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;

// reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl (appended by the descriptor).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.rows) { return; } // uniform per workgroup, so the barriers below stay legal
  let base = row * dims.C;
  var sq = 0.0;
  for (var c = lid; c < dims.C; c += WG) {
    let v = x[base + c];
    sq += v * v;
  }
  let s = inverseSqrt(reduceSum(lid, sq) / f32(dims.C) + dims.eps);
  for (var c = lid; c < dims.C; c += WG) {
    y[base + c] = (x[base + c] * s) * w[c];
  }
  if (lid == 0u) { rstd[row] = s; }
}
