// attention_gqa_qkv_grads.wgsl — the body of attention_gqa_backward_qkv.wgsl (one channel per thread) and
// attention_gqa_backward_qkv_vec4.wgsl (four), which differ only in the element type of q, k, dout, dq,
// dk, dv: one element of dq, then of dk, then of dv per call (one flat range), each summed by its own
// thread over heads ascending, then positions ascending (no float atomics, deterministic).
// Not an entry point: both descriptors append it with `withLib` (src/gpu/kernel.ts). The including shader
// declares `alias Lanes` (f32 or vec4<f32>), `const LANES: u32` (its channels, 1 or 4; HS a multiple of
// it) and the bindings dims (Dims below), dout, q, k, dq, dk, dv (arrays of Lanes), att, dpreatt (f32).
struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

// Element i of the range dq | dk | dv, with W = HS / LANES elements per head; nothing past the end.
fn qkvGradElement(i: u32) {
  let T = dims.T;
  let W = dims.HS / LANES;
  let NH = dims.NH;
  let NKV = dims.NKV;
  let G = NH / NKV;
  let nQ = dims.B * T * NH * W;
  let nKV = dims.B * T * NKV * W;
  if (i >= nQ + 2u * nKV) { return; }
  if (i < nQ) {
    // dq[b, t, h, d] = scale · Σ_{s ≤ t} dpreatt[b, h, t, s] · k[b, s, kh, d]
    let d = i % W;
    let bth = i / W;
    let h = bth % NH;
    let bt = bth / NH;
    let t = bt % T;
    let b = bt / T;
    let row = ((b * NH + h) * T + t) * T;
    var ko = (b * T * NKV + h / G) * W + d;
    var acc = Lanes(0.0);
    for (var s = 0u; s <= t; s++) {
      acc += dpreatt[row + s] * k[ko];
      ko += NKV * W;
    }
    dq[i] = acc * dims.scale;
    return;
  }
  // dk[b, s, kh, d] = scale · Σ_{h of group kh} Σ_{t ≥ s} dpreatt[b, h, t, s] · q[b, t, h, d]
  // dv[b, s, kh, d] =         Σ_{h of group kh} Σ_{t ≥ s} att[b, h, t, s]     · dout[b, t, h, d]
  let j = i - nQ;
  let isV = j >= nKV; // uniform except in the one workgroup that straddles dk | dv
  let e = select(j, j - nKV, isV); // element of dk or dv
  let d = e % W;
  let bskh = e / W;
  let kh = bskh % NKV;
  let bs = bskh / NKV;
  let s = bs % T; // this element's key position
  let b = bs / T;
  var acc = Lanes(0.0);
  for (var h = kh * G; h < (kh + 1u) * G; h++) {
    let rows = (b * NH + h) * T; // att row of (b, h, 0)
    var qo = ((b * T + s) * NH + h) * W + d;
    if (isV) {
      for (var t = s; t < T; t++) {
        acc += att[(rows + t) * T + s] * dout[qo];
        qo += NH * W;
      }
    } else {
      for (var t = s; t < T; t++) {
        acc += dpreatt[(rows + t) * T + s] * q[qo];
        qo += NH * W;
      }
    }
  }
  if (isV) {
    dv[e] = acc;
  } else {
    dk[e] = acc * dims.scale;
  }
}
