// attention_backward.wgsl — first half of the attention backward, per row (b, h, t):
//   datt[s]    = dout[b, t, h, :] · v[b, s, h, :]                 (through out = att · V)
//   dpreatt[s] = att[s] · (datt[s] − Σ_s' att[s'] · datt[s'])     (through the softmax)
// dpreatt is the gradient with respect to the scaled scores preatt = q·k / √HS (llm.c's dpreatt);
// attention_backward_qkv applies the 1/√HS. Masked entries (CAUSAL, s > t) get 0.
// Shapes: dout (B, T, C) with channel c = h·HS + d; qkv (B, T, 3C) (V in [2C, 3C));
// att, dpreatt (B, NH, T, T).
// Threads: one workgroup of WG threads (a power of two) per row; thread i owns s = i, i + WG, ...
// and keeps datt in dpreatt until rescaling it (only it reads them back, so no barrier); the dot
// product Σ att · datt is a tree reduction in workgroup memory. Rows fold over (x, y) workgroup ids
// when B·NH·T > 65535: row = wid.x + wid.y · nwg.x = (b·NH + h)·T + t.
// Writes dpreatt with `=` (a scratch buffer, consumed by attention_backward_qkv).
override WG: u32 = 64;
override CAUSAL: bool = true;

struct Dims { B: u32, T: u32, C: u32, NH: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
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
  let C = dims.C;
  let g = (b * T + t) * C + h * dims.HS;
  let vCol = 2u * C + h * dims.HS;
  let sEnd = select(T, t + 1u, CAUSAL);
  let base = row * T;
  var part = 0.0;
  for (var s = lid; s < sEnd; s += WG) {
    let v = (b * T + s) * 3u * C + vCol;
    var datt = 0.0;
    for (var d = 0u; d < dims.HS; d++) { datt += dout[g + d] * qkv[v + d]; }
    dpreatt[base + s] = datt;
    part += att[base + s] * datt;
  }
  let dot = reduceSum(lid, part);
  for (var s = lid; s < T; s += WG) {
    dpreatt[base + s] = select(0.0, att[base + s] * (dpreatt[base + s] - dot), s < sEnd);
  }
}
