// swiglu_forward.wgsl — h = silu(g) ⊙ u, elementwise: the gated MLP of Llama/Mistral/Qwen
// (down_proj(silu(gate_proj(x)) * up_proj(x)), hidden_act "silu"), silu(g) = g·σ(g).
//   σ is computed from en = e^(−|g|) ∈ (0, 1], which never overflows (WGSL lets implementations
//   assume no infinities): σ = 1/(1 + en) for g ≥ 0, en/(1 + en) for g < 0 (shaders/lib/sigmoid.wgsl).
//
// Shapes: g (gate_proj output), u (up_proj output), h: flat f32 arrays of n = B·T·I elements.
// Threads: one thread per element, WG per workgroup; the workgroup count is folded into (x, y) above
// 65535 (kernel.ts fold2d): flat index (wid.x + wid.y·nwg.x)·WG + lid, masked by `i < n`.
// Caches nothing beyond g and u, which the caller keeps. Writes h with `=`.
override WG: u32 = 256;

struct Dims { n: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> u: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;

// sigmoid(v): shaders/lib/sigmoid.wgsl (appended by the descriptor).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let v = g[i];
  h[i] = v * sigmoid(v).x * u[i];
}
