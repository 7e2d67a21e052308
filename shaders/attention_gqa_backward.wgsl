// attention_gqa_backward.wgsl — first half of the grouped-query attention backward, per row (b, h, t):
//   datt[s]    = dout[b, t, h, :] · v[b, s, kh, :]                (through out = att · V),  kh = ⌊h / (NH/NKV)⌋
//   dpreatt[s] = att[s] · (datt[s] − Σ_s' att[s'] · datt[s'])     (through the softmax)
// dpreatt is the gradient with respect to the scaled scores q·k/√HS; attention_gqa_backward_qkv
// applies the 1/√HS. Entries s > t (causal) get 0.
// Shapes: dout (B, T, NH, HS); v (B, T, NKV, HS); att, dpreatt (B, NH, T, T).
// Threads: one workgroup of WG threads (a power of two) per row; thread i owns s = i, i + WG, … ≤ t
// and keeps datt in dpreatt until rescaling it (only it reads them back, so no barrier); Σ att·datt
// is a tree reduction in workgroup memory. Rows fold over (x, y) workgroup ids above 65535:
// row = wid.x + wid.y · nwg.x = (b·NH + h)·T + t.
// Writes dpreatt with `=` (scratch, consumed by attention_gqa_backward_qkv).
override WG: u32 = 64;

struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> att: array<f32>;
@group(0) @binding(4) var<storage, read_write> dpreatt: array<f32>;

// reduceMax / reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl (appended by the descriptor).

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  let T = dims.T;
  if (row >= dims.B * dims.NH * T) { return; } // uniform: the same for the whole workgroup
  let t = row % T;
  let bh = row / T;
  let h = bh % dims.NH;
  let b = bh / dims.NH;
  let kh = h / (dims.NH / dims.NKV);
  let go = ((b * T + t) * dims.NH + h) * dims.HS;
  let base = row * T;
  var part = 0.0;
  for (var s = lid; s <= t; s += WG) {
    let vo = ((b * T + s) * dims.NKV + kh) * dims.HS;
    var datt = 0.0;
    for (var d = 0u; d < dims.HS; d++) { datt += dout[go + d] * v[vo + d]; }
    dpreatt[base + s] = datt;
    part += att[base + s] * datt;
  }
  let dot = reduceSum(lid, part);
  for (var s = lid; s < T; s += WG) {
    dpreatt[base + s] = select(0.0, att[base + s] * (dpreatt[base + s] - dot), s <= t);
  }
}
