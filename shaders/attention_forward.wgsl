// attention_forward.wgsl — attention probabilities of multi-head self-attention (GPT-2, ViT):
//   preatt[b, h, t, s] = (q[b, t, h, :] · k[b, s, h, :]) / √HS
//   att[b, h, t, s]    = softmax_s(preatt[b, h, t, :]),   s ≤ t only when CAUSAL (GPT-2's mask);
//                        masked entries are written as 0.
// Shapes: qkv (B, T, 3C) exactly as GPT-2's c_attn output: columns [0, C) are Q, [C, 2C) K,
// [2C, 3C) V, head h the slice [h·HS, (h+1)·HS) within each (C = NH·HS). att (B, NH, T, T).
// Threads: one workgroup of WG threads (a power of two) per row (b, h, t); thread i owns the keys
// s = i, i + WG, ...; it stores its raw scores in att and rescales them in place (only it reads
// them back, so no barrier), while the row max and the sum of exponentials are tree reductions in
// workgroup memory. Rows fold over (x, y) workgroup ids when B·NH·T > 65535:
// row = wid.x + wid.y · nwg.x = (b·NH + h)·T + t.
// Caches att for attention_forward_values and the backward. Writes att with `=`.
override WG: u32 = 64;
override CAUSAL: bool = true;

struct Dims { B: u32, T: u32, C: u32, NH: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> att: array<f32>;

const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

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
  let C3 = 3u * dims.C;
  let q = (b * T + t) * C3 + h * dims.HS;
  let kCol = dims.C + h * dims.HS;
  let sEnd = select(T, t + 1u, CAUSAL); // keys s < sEnd are visible
  let base = row * T;
  var m = LOWEST;
  for (var s = lid; s < sEnd; s += WG) {
    let k = (b * T + s) * C3 + kCol;
    var dot = 0.0;
    for (var d = 0u; d < dims.HS; d++) { dot += qkv[q + d] * qkv[k + d]; }
    let score = dot * dims.scale;
    att[base + s] = score;
    m = max(m, score);
  }
  m = reduceMax(lid, m);
  var sum = 0.0;
  for (var s = lid; s < sEnd; s += WG) {
    let e = exp(att[base + s] - m);
    att[base + s] = e;
    sum += e;
  }
  let inv = 1.0 / reduceSum(lid, sum);
  for (var s = lid; s < T; s += WG) {
    att[base + s] = select(0.0, att[base + s] * inv, s < sEnd);
  }
}
