// attention_gqa_values.wgsl — the body of attention_gqa_forward_values.wgsl (one channel per thread) and
// attention_gqa_forward_values_vec4.wgsl (four), which differ only in the element type of v and out:
// out[b, t, h, d] = Σ_{s ≤ t} att[b, h, t, s] · v[b, s, kh, d], s ascending, kh = ⌊h / (NH/NKV)⌋.
// Not an entry point: both descriptors append it with `withLib` (src/gpu/kernel.ts). The including shader
// declares `alias Lanes` (f32 or vec4<f32>), `const LANES: u32` (its channels, 1 or 4; HS a multiple of
// it) and the bindings dims (Dims below), v and out (arrays of Lanes), att (f32).
struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

// Element i of out, i = ((b·T + t)·NH + h)·W + d with W = HS / LANES elements per head; nothing past the end.
fn valuesElement(i: u32) {
  let T = dims.T;
  let W = dims.HS / LANES;
  if (i >= dims.B * T * dims.NH * W) { return; }
  let d = i % W;
  let bth = i / W;
  let h = bth % dims.NH;
  let bt = bth / dims.NH;
  let t = bt % T;
  let b = bt / T;
  let kh = h / (dims.NH / dims.NKV);
  let attRow = ((b * dims.NH + h) * T + t) * T;
  let vStride = dims.NKV * W; // elements from one position's KV head to the next position's
  var vo = (b * T * dims.NKV + kh) * W + d;
  var acc = Lanes(0.0);
  for (var s = 0u; s <= t; s++) {
    acc += att[attRow + s] * v[vo];
    vo += vStride;
  }
  out[i] = acc;
}
