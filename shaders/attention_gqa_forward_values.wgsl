// attention_gqa_forward_values.wgsl — out[b, t, h, d] = Σ_{s ≤ t} att[b, h, t, s] · v[b, s, kh, d],
// kh = ⌊h / (NH/NKV)⌋: the second half of attention_gqa_forward (probabilities times values).
// Shapes: att (B, NH, T, T) from attention_gqa_forward; v (B, T, NKV, HS); out (B, T, NH, HS), the
// o_proj input layout (channel h·HS + d of each token).
// Threads: one thread per element of out; WG threads per workgroup, workgroups folded over (x, y)
// above 65535: i = (wid.x + wid.y · nwg.x) · WG + lid, masked by `i < B·T·NH·HS`. Keys s > t are
// skipped (causal; their att is 0 anyway).
// Caches nothing. Writes out with `=`.
// The body: shaders/lib/attention_gqa_values.wgsl (with Dims); this file states the element type.
override WG: u32 = 64;

alias Lanes = f32; // the element of v and out: one channel
const LANES: u32 = 1u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  valuesElement((wid.x + wid.y * nwg.x) * WG + lid);
}
