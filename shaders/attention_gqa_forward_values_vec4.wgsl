// attention_gqa_forward_values_vec4.wgsl — attention_gqa_forward_values with four channels per thread, for
// HS a multiple of 4 (every Llama/Qwen head_dim): out[b, t, h, d…d+3] = Σ_{s ≤ t} att[b, h, t, s] · v[b, s, kh, d…d+3],
// kh = ⌊h / (NH/NKV)⌋. Each att element is loaded once for four products, and v and out move as vec4, so a
// thread does a quarter of the index arithmetic and loads of the scalar kernel per multiply-add.
// Shapes: att (B, NH, T, T); v (B, T, NKV, HS) read as vec4 (HS/4 per head); out (B, T, NH, HS) as vec4.
// Threads: one thread per vec4 of out; WG threads per workgroup, workgroups folded over (x, y) above 65535:
// i = (wid.x + wid.y · nwg.x) · WG + lid, masked by `i < B·T·NH·HS/4`. Keys s > t are skipped (causal).
// Sums in the same order (s ascending) as the scalar kernel, channel by channel. Writes out with `=`.
override WG: u32 = 64;

struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let T = dims.T;
  let H4 = dims.HS / 4u;
  if (i >= dims.B * T * dims.NH * H4) { return; }
  let d4 = i % H4;
  let bth = i / H4;
  let h = bth % dims.NH;
  let bt = bth / dims.NH;
  let t = bt % T;
  let b = bt / T;
  let kh = h / (dims.NH / dims.NKV);
  let attRow = ((b * dims.NH + h) * T + t) * T;
  let vStride = dims.NKV * H4; // vec4s from one position's KV head to the next position's
  var vo = (b * T * dims.NKV + kh) * H4 + d4;
  var acc = vec4<f32>(0.0);
  for (var s = 0u; s <= t; s++) {
    acc += att[attRow + s] * v[vo];
    vo += vStride;
  }
  out[i] = acc;
}
