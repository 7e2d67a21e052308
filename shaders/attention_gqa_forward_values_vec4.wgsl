// attention_gqa_forward_values_vec4.wgsl — attention_gqa_forward_values with four channels per thread, for
// HS a multiple of 4 (every Llama/Qwen head_dim): out[b, t, h, d…d+3] = Σ_{s ≤ t} att[b, h, t, s] · v[b, s, kh, d…d+3],
// kh = ⌊h / (NH/NKV)⌋. Each att element is loaded once for four products, and v and out move as vec4, so a
// thread does a quarter of the index arithmetic and loads of the scalar kernel per multiply-add.
// Shapes: att (B, NH, T, T); v (B, T, NKV, HS) read as vec4 (HS/4 per head); out (B, T, NH, HS) as vec4.
// Threads: one thread per vec4 of out; WG threads per workgroup, workgroups folded over (x, y) above 65535:
// i = (wid.x + wid.y · nwg.x) · WG + lid, masked by `i < B·T·NH·HS/4`. Keys s > t are skipped (causal).
// Sums in the same order (s ascending) as the scalar kernel, channel by channel. Writes out with `=`.
// The body: shaders/lib/attention_gqa_values.wgsl (with Dims); this file states the element type.
override WG: u32 = 64;

alias Lanes = vec4<f32>; // the element of v and out: four channels
const LANES: u32 = 4u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  valuesElement((wid.x + wid.y * nwg.x) * WG + lid);
}
