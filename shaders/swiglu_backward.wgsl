// swiglu_backward.wgsl — gradients of swiglu_forward.wgsl (h = silu(g) ⊙ u), elementwise:
//   dg = dh ⊙ u ⊙ silu'(g),  silu'(g) = σ(g)·(1 + g·(1 − σ(g))),   du = dh ⊙ silu(g) = dh ⊙ g·σ(g)
// σ(g) and 1 − σ(g) both come from en = e^(−|g|) ∈ (0, 1] (shaders/lib/sigmoid.wgsl): no overflow,
// and no cancellation in 1 − σ for large g.
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

// sigmoid(v): shaders/lib/sigmoid.wgsl (appended by the descriptor).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let v = g[i];
  let sg = sigmoid(v); // (σ, 1 − σ)
  let d = dh[i];
  let a = d * u[i] * sg.x * (1.0 + v * sg.y);
  let b = d * v * sg.x;
  if (ACCUMULATE) {
    dg[i] += a;
    du[i] += b;
  } else {
    dg[i] = a;
    du[i] = b;
  }
}
