// attention_gqa_backward_qkv_vec4.wgsl — attention_gqa_backward_qkv with four channels per thread, for HS a
// multiple of 4 (every Llama/Qwen head_dim). The same sums (kh = ⌊h / G⌋, G = NH/NKV, scale = 1/√HS):
//   dq[b, t, h, d]  = scale · Σ_{s ≤ t} dpreatt[b, h, t, s] · k[b, s, kh, d]
//   dk[b, s, kh, d] = scale · Σ_{h: ⌊h/G⌋ = kh} Σ_{t ≥ s} dpreatt[b, h, t, s] · q[b, t, h, d]
//   dv[b, s, kh, d] =         Σ_{h: ⌊h/G⌋ = kh} Σ_{t ≥ s} att[b, h, t, s]     · dout[b, t, h, d]
// for d…d+3 at once: each att/dpreatt element is loaded once for four products and q, k, dout, dq, dk, dv
// move as vec4, a quarter of the scalar kernel's index arithmetic and loads per multiply-add.
// Shapes: dout, q, dq (B, T, NH, HS); k, dk, dv (B, T, NKV, HS), all read/written as vec4 (HS/4 per head);
// att, dpreatt (B, NH, T, T).
// Threads: one thread per vec4 of dq, then of dk, then of dv (one flat range of B·T·(NH + 2·NKV)·HS/4); each
// sums over heads and positions itself in the scalar kernel's order (heads ascending, then positions), so no
// two threads write one element and the result is deterministic. WG threads per workgroup, folded over (x, y)
// above 65535: i = (wid.x + wid.y · nwg.x) · WG + lid.
// Writes dq, dk, dv with `=`.
// The body: shaders/lib/attention_gqa_qkv_grads.wgsl (with Dims); this file states the element type.
override WG: u32 = 64;

alias Lanes = vec4<f32>; // the element of q, k, v and their gradients: four channels
const LANES: u32 = 4u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> att: array<f32>;
@group(0) @binding(5) var<storage, read> dpreatt: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> dv: array<vec4<f32>>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  qkvGradElement((wid.x + wid.y * nwg.x) * WG + lid);
}
