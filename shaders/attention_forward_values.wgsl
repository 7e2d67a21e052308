// attention_forward_values.wgsl — out[b, t, h·HS + d] = Σ_s att[b, h, t, s] · v[b, s, h, d]
//
// The second half of attention_forward: probabilities times values, heads re-interleaved into
// channels as GPT-2 does (out (B, T, C), channel c = h·HS + d, ready for c_proj).
// Shapes: att (B, NH, T, T) from attention_forward; qkv (B, T, 3C) with V in columns [2C, 3C).
// Threads: one thread per element of out; WG threads per workgroup, workgroups folded over (x, y)
// when more than 65535: i = (wid.x + wid.y · nwg.x) · WG + lid. CAUSAL skips the keys s > t
// (their att is 0 anyway).
// Caches nothing. Writes out with `=`.
override WG: u32 = 64;
override CAUSAL: bool = true;

struct Dims { B: u32, T: u32, C: u32, NH: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let T = dims.T;
  let C = dims.C;
  if (i >= dims.B * T * C) { return; }
  let c = i % C;
  let bt = i / C;
  let t = bt % T;
  let b = bt / T;
  let h = c / dims.HS;
  let attRow = ((b * dims.NH + h) * T + t) * T;
  let sEnd = select(T, t + 1u, CAUSAL);
  var acc = 0.0;
  for (var s = 0u; s < sEnd; s++) {
    acc += att[attRow + s] * qkv[(b * T + s) * 3u * C + 2u * C + c];
  }
  out[i] = acc;
}
