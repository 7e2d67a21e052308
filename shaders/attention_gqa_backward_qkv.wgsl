// attention_gqa_backward_qkv.wgsl — second half of the grouped-query attention backward: dq, dk, dv
// from dpreatt and att (kh = ⌊h / G⌋, G = NH/NKV query heads per KV head, scale = 1/√HS):
//   dq[b, t, h, d]  = scale · Σ_{s ≤ t} dpreatt[b, h, t, s] · k[b, s, kh, d]
//   dk[b, s, kh, d] = scale · Σ_{h: ⌊h/G⌋ = kh} Σ_{t ≥ s} dpreatt[b, h, t, s] · q[b, t, h, d]
//   dv[b, s, kh, d] =         Σ_{h: ⌊h/G⌋ = kh} Σ_{t ≥ s} att[b, h, t, s]     · dout[b, t, h, d]
// dk and dv sum over the G query heads of the group (the gradient of HF's repeat_kv).
// Shapes: dout, q, dq (B, T, NH, HS); k, dk, dv (B, T, NKV, HS); att, dpreatt (B, NH, T, T).
// Threads: one thread per element of dq, then of dk, then of dv (one flat range of
// B·T·(NH + 2·NKV)·HS); each thread sums over heads and positions itself, in a fixed order (heads
// ascending, then positions), so no two threads write one element (no float atomics) and the result
// is deterministic. WG threads per workgroup, folded over (x, y) above 65535:
// i = (wid.x + wid.y · nwg.x) · WG + lid.
// Writes dq, dk, dv with `=` (activation gradients; the projections' backward consumes them).
// The body: shaders/lib/attention_gqa_qkv_grads.wgsl (with Dims); this file states the element type.
override WG: u32 = 64;

alias Lanes = f32; // the element of q, k, v and their gradients: one channel
const LANES: u32 = 1u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> att: array<f32>;
@group(0) @binding(5) var<storage, read> dpreatt: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  qkvGradElement((wid.x + wid.y * nwg.x) * WG + lid);
}
