// gradnorm_finalize.wgsl — out[0] = ‖g‖₂ = √(Σ_w partials[w]), out[1] = min(1, maxNorm / (‖g‖₂ + 1e-6)),
// the clip coefficient of torch.nn.utils.clip_grad_norm_ (clip_coef clamped to 1; the 1e-6 is
// PyTorch's), which the AdamW step takes as its gradScale.
//
// Shapes: partials is flat f32 (count,) written by gradnorm_partial.wgsl; out is f32 (2,).
// Threads: a single workgroup. Thread l sums partials l, l + WG, … in a fixed order, then a tree
// reduction in workgroup memory: deterministic, no atomics. WG must be a power of two.
// Caches nothing; writes out with `=`.
override WG: u32 = 256;

struct Dims { count: u32, maxNorm: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < dims.count; i += WG) { acc += partials[i]; }
  scratch[lid] = acc;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { scratch[lid] += scratch[lid + stride]; }
  }
  if (lid == 0u) {
    let norm = sqrt(scratch[0]);
    out[0] = norm;
    out[1] = min(1.0, dims.maxNorm / (norm + 1e-6));
  }
}
