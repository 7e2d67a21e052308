// elementwise_axpy.wgsl — y ← y + alpha·x (BLAS saxpy), e.g. merging a scaled update into a weight.
//
// Shapes: x, y are flat f32 arrays of n elements; alpha is a uniform scalar.
// Threads: one thread per element, WG per workgroup; the workgroup count is folded into (x, y) above
// 65535 (kernel.ts fold2d): flat index (wid.x + wid.y·nwg.x)·WG + lid, masked by `i < n`.
// Caches nothing. Accumulates into y (`+=`).
override WG: u32 = 256;

struct Dims { n: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  y[i] += dims.alpha * x[i];
}
