// swiglu_forward.wgsl — h = silu(g) ⊙ u, elementwise: the gated MLP of Llama/Mistral/Qwen
// (down_proj(silu(gate_proj(x)) * up_proj(x)), hidden_act "silu"), silu(g) = g·σ(g).
//   σ(g) = 1/(1 + e) with e = e^(−g), g clamped to ±80 inside the exponential only, so e stays
//   finite (e^80 ≈ 5.5e34) and σ never becomes a subnormal: silu(−100) is −100·σ(−80) ≈ −2e-33.
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

const EXP_CLAMP: f32 = 80.0;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let v = g[i];
  let sig = 1.0 / (1.0 + exp(-clamp(v, -EXP_CLAMP, EXP_CLAMP)));
  h[i] = v * sig * u[i];
}
