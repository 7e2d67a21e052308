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
override WG: u32 = 64;

struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

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
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let T = dims.T;
  let H4 = dims.HS / 4u;
  let NH = dims.NH;
  let NKV = dims.NKV;
  let G = NH / NKV;
  let nQ = dims.B * T * NH * H4;
  let nKV = dims.B * T * NKV * H4;
  if (i >= nQ + 2u * nKV) { return; }
  if (i < nQ) {
    let d4 = i % H4;
    let bth = i / H4;
    let h = bth % NH;
    let bt = bth / NH;
    let t = bt % T;
    let b = bt / T;
    let row = ((b * NH + h) * T + t) * T;
    var ko = (b * T * NKV + h / G) * H4 + d4;
    var acc = vec4<f32>(0.0);
    for (var s = 0u; s <= t; s++) {
      acc += dpreatt[row + s] * k[ko];
      ko += NKV * H4;
    }
    dq[i] = acc * dims.scale;
    return;
  }
  let j = i - nQ;
  let isV = j >= nKV; // uniform except in the one workgroup that straddles dk | dv
  let e = select(j, j - nKV, isV); // vec4 of dk or dv
  let d4 = e % H4;
  let bskh = e / H4;
  let kh = bskh % NKV;
  let bs = bskh / NKV;
  let s = bs % T; // this element's key position
  let b = bs / T;
  var acc = vec4<f32>(0.0);
  for (var h = kh * G; h < (kh + 1u) * G; h++) {
    let rows = (b * NH + h) * T; // att row of (b, h, 0)
    var qo = ((b * T + s) * NH + h) * H4 + d4;
    if (isV) {
      for (var t = s; t < T; t++) {
        acc += att[(rows + t) * T + s] * dout[qo];
        qo += NH * H4;
      }
    } else {
      for (var t = s; t < T; t++) {
        acc += dpreatt[(rows + t) * T + s] * q[qo];
        qo += NH * H4;
      }
    }
  }
  if (isV) {
    dv[e] = acc;
  } else {
    dk[e] = acc * dims.scale;
  }
}
