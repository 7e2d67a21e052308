// dora_scale.wgsl — y[n,o] = (m[o] / norm[o]) · z[n,o] + bias[o]   (DoRA forward, last step)
//
// z = x·Wᵀ + s·(x·Aᵀ)·Bᵀ WITHOUT bias (src/kernels/lora.ts's forward with no bias), so that only the directional
// part is rescaled and the bias is not (docs/method.md#dora: y = (m/n) ⊙ (W0·x + s·B·A·x) + b).
// Shapes: z, y (N, OUT) row-major; m, norm, bias (OUT). All f32. norm from dora_row_norm.wgsl.
// Threads: one thread per element, flat index n·OUT + o; grid folded (fold2d): flat workgroup =
// wid.x + wid.y·nwg.x.
// z is cached by the caller for the backward (dm needs it). Writes y with `=`.
override WG: u32 = 64;
override HAS_BIAS: bool = false;

struct Dims { N: u32, OUT: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read> norm: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= dims.N * dims.OUT) { return; }
  let o = idx % dims.OUT;
  var v = (m[o] / norm[o]) * z[idx];
  if (HAS_BIAS) { v += bias[o]; }
  y[idx] = v;
}
