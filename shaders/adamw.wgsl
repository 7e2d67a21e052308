// adamw.wgsl — one AdamW step over one parameter group, PyTorch torch.optim.AdamW semantics
// (Loshchilov & Hutter 2019, decoupled weight decay; the single-tensor path of torch/optim/adamw.py):
//   g = grad[j] · gradScale                           (gradScale: global-norm clip factor, else 1)
//   p ← p · decay,          decay = 1 − lr·wd          (decoupled weight decay, applied first)
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   p ← p − stepSize · m / (√v / bc2Sqrt + eps),       stepSize = lr / (1−β1^t), bc2Sqrt = √(1−β2^t)
// which is p − lr·m̂/(√v̂ + eps) with m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), written in PyTorch's operation
// order. decay, stepSize, bc2Sqrt, 1−β1 and 1−β2 are computed on the host in Float64 (as Python
// does) and rounded once to f32 here, so t never enters the shader. (1 − β2 computed in f32 from
// β2 = 0.999 is 1.3e-5 too small relative to 0.001, which made every update ~7e-6 too large.)
//
// Shapes: param, m, v, grad are one flat f32 buffer each, mirroring each other; this dispatch updates
// elements [offset, offset + n) of all four. Per-group lr/wd: the host issues one dispatch per
// parameter group (a handful per step) rather than a group table, so every dispatch is a plain
// elementwise pass with scalar uniforms and no per-element group lookup.
// Threads: one thread per element; the workgroup grid may be folded into (x, y) above 65535 groups
// and the flat workgroup index is wid.x + wid.y · nwg.x. Nothing cached.
// Writes param, m, v in place (`=` of the updated value); grad is only read.
override WG: u32 = 256;

struct Dims {
  n: u32, offset: u32,
  decay: f32, stepSize: f32, bc2Sqrt: f32,
  beta1: f32, beta2: f32, eps: f32, gradScale: f32,
  oneMinusBeta1: f32, oneMinusBeta2: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let j = dims.offset + i;
  let g = grad[j] * dims.gradScale;
  let p = param[j] * dims.decay;
  let mj = dims.beta1 * m[j] + dims.oneMinusBeta1 * g;
  let vj = dims.beta2 * v[j] + dims.oneMinusBeta2 * (g * g);
  m[j] = mj;
  v[j] = vj;
  let denom = sqrt(vj) / dims.bc2Sqrt + dims.eps;
  param[j] = p - dims.stepSize * (mj / denom);
}
