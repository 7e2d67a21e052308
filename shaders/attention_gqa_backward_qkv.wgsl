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
override WG: u32 = 64;

struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

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
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let T = dims.T;
  let HS = dims.HS;
  let NH = dims.NH;
  let NKV = dims.NKV;
  let G = NH / NKV;
  let nQ = dims.B * T * NH * HS;
  let nKV = dims.B * T * NKV * HS;
  if (i >= nQ + 2u * nKV) { return; }
  if (i < nQ) {
    let d = i % HS;
    let bth = i / HS;
    let h = bth % NH;
    let bt = bth / NH;
    let t = bt % T;
    let b = bt / T;
    let kh = h / G;
    let row = ((b * NH + h) * T + t) * T;
    var acc = 0.0;
    for (var s = 0u; s <= t; s++) {
      acc += dpreatt[row + s] * k[((b * T + s) * NKV + kh) * HS + d];
    }
    dq[i] = acc * dims.scale;
    return;
  }
  let j = i - nQ;
  let isV = j >= nKV; // uniform except in the one workgroup that straddles dk | dv
  let e = select(j, j - nKV, isV); // element of dk or dv
  let d = e % HS;
  let bskh = e / HS;
  let kh = bskh % NKV;
  let bs = bskh / NKV;
  let s = bs % T; // this element's key position
  let b = bs / T;
  var acc = 0.0;
  for (var h = kh * G; h < (kh + 1u) * G; h++) {
    let rows = (b * NH + h) * T; // att row of (b, h, 0)
    for (var t = s; t < T; t++) {
      let qo = ((b * T + t) * NH + h) * HS + d;
      if (isV) {
        acc += att[(rows + t) * T + s] * dout[qo];
      } else {
        acc += dpreatt[(rows + t) * T + s] * q[qo];
      }
    }
  }
  if (isV) {
    dv[e] = acc;
  } else {
    dk[e] = acc * dims.scale;
  }
}
