// swiglu_backward.wgsl — gradients of swiglu_forward.wgsl (h = silu(g) ⊙ u), elementwise:
//   dg = dh ⊙ u ⊙ silu'(g),  silu'(g) = σ(g)·(1 + g·(1 − σ(g))),   du = dh ⊙ silu(g) = dh ⊙ g·σ(g)
// σ(g) = 1/(1 + e) with e = e^(−g) (g clamped to ±80 inside the exponential, as the forward), and
// 1 − σ computed as e·σ: no cancellation for large g, and finite for very negative g.
//
// Shapes: g, u (the forward's inputs, its only cache), dh, dg, du: flat f32 arrays of n = B·T·I.
// Threads: one thread per element, WG per workgroup; the workgroup count is folded into (x, y) above
// 65535: flat index (wid.x + wid.y·nwg.x)·WG + lid, masked by `i < n`.
// Writes dg and du with `=`; ACCUMULATE adds (`+=`).
override WG: u32 = 256;
override ACCUMULATE: bool = false;

struct Dims { n: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> u: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
@group(0) @binding(4) var<storage, read_write> dg: array<f32>;
@group(0) @binding(5) var<storage, read_write> du: array<f32>;

const EXP_CLAMP: f32 = 80.0;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let v = g[i];
  let e = exp(-clamp(v, -EXP_CLAMP, EXP_CLAMP));
  let sig = 1.0 / (1.0 + e);
  let d = dh[i];
  let a = d * u[i] * sig * (1.0 + v * (e * sig));
  let b = d * v * sig;
  if (ACCUMULATE) {
    dg[i] += a;
    du[i] += b;
  } else {
    dg[i] = a;
    du[i] = b;
  }
}
