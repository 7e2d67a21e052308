// attention_gqa_forward.wgsl — attention probabilities of causal grouped-query attention (Llama,
// Mistral, Qwen2/3; HF eager attention with repeat_kv):
//   preatt[b, h, t, s] = (q[b, t, h, :] · k[b, s, kh, :]) / √HS,   kh = ⌊h / (NH/NKV)⌋
//   att[b, h, t, s]    = softmax_{s ≤ t}(preatt[b, h, t, :]),  entries s > t written as 0
// NKV = NH is multi-head attention, NKV = 1 multi-query. HS is head_dim (not necessarily C/NH).
// Shapes: q (B, T, NH, HS); k (B, T, NKV, HS); att (B, NH, T, T).
// Threads: one workgroup of WG threads (a power of two) per row (b, h, t); thread i owns the keys
// s = i, i + WG, … ≤ t; it stores its raw scores in att and rescales them in place (only it reads
// them back, so no barrier), while the row max and the sum of exponentials are tree reductions in
// workgroup memory. Rows fold over (x, y) workgroup ids above 65535:
// row = wid.x + wid.y · nwg.x = (b·NH + h)·T + t.
// Caches att for attention_gqa_forward_values and the backward. Writes att with `=`.
override WG: u32 = 64;

struct Dims { B: u32, T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> att: array<f32>;

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
  let kh = h / (dims.NH / dims.NKV);
  let qo = ((b * T + t) * dims.NH + h) * dims.HS;
  let base = row * T;
  var m = LOWEST;
  for (var s = lid; s <= t; s += WG) {
    let score = scaledDot(qo, ((b * T + s) * dims.NKV + kh) * dims.HS);
    att[base + s] = score;
    m = max(m, score);
  }
  m = reduceMax(lid, m);
  var sum = 0.0;
  for (var s = lid; s <= t; s += WG) {
    let e = exp(att[base + s] - m);
    att[base + s] = e;
    sum += e;
  }
  let inv = 1.0 / reduceSum(lid, sum);
  for (var s = lid; s < T; s += WG) {
    att[base + s] = select(0.0, att[base + s] * inv, s <= t);
  }
}

/** q[qo … qo + HS) · k[ko … ko + HS) / √HS, summed in order d = 0, 1, …. */
fn scaledDot(qo: u32, ko: u32) -> f32 {
  var acc = 0.0;
  for (var d = 0u; d < dims.HS; d++) { acc += q[qo + d] * k[ko + d]; }
  return acc * dims.scale;
}
