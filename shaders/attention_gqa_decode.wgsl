// attention_gqa_decode.wgsl — one new query attending over the KV cache with grouped KV heads
// (a Llama/Mistral/Qwen generation step, B = 1), kh = ⌊h / (NH/NKV)⌋:
//   score[h, s]  = (q[h, :] · kcache[s, kh, :]) / √HS     for s < T
//   att[h, s]    = softmax_s(score[h, :])
//   out[h, d]    = Σ_s att[h, s] · vcache[s, kh, d]
// No mask: the cache holds only positions ≤ the query's (the new key, already rotated by rope.wgsl
// at position T − 1, is written before this runs), so the causal mask holds by construction and the
// result equals the last row of attention_gqa_forward over the whole sequence.
// Shapes: q (NH, HS), the step's q_proj output after RoPE; kcache, vcache (maxT, NKV, HS), rows s < T
// valid; att (NH, T) scratch, row stride T; out (NH, HS).
// Threads: one workgroup of WG threads (a power of two) per query head (folded over (x, y) above
// 65535: h = wid.x + wid.y · nwg.x). Thread i owns the keys s = i, i + WG, …: it stores raw scores in
// att and rescales them in place; the max and the sum of exponentials are tree reductions in
// workgroup memory. After a storage barrier, thread i owns the output channels d = i, i + WG, … < HS.
// Caches nothing (att is scratch, kept only for inspection). Writes att and out with `=`.
override WG: u32 = 64;

struct Dims { T: u32, NH: u32, NKV: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kcache: array<f32>;
@group(0) @binding(3) var<storage, read> vcache: array<f32>;
@group(0) @binding(4) var<storage, read_write> att: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

// reduceMax / reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl (appended by the descriptor).

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let h = wid.x + wid.y * nwg.x;
  if (h >= dims.NH) { return; } // uniform: the same for the whole workgroup
  let T = dims.T;
  let HS = dims.HS;
  let kh = h / (dims.NH / dims.NKV);
  let qo = h * HS;
  let base = h * T;
  var m = LOWEST;
  for (var s = lid; s < T; s += WG) {
    let score = scaledDot(qo, (s * dims.NKV + kh) * HS);
    att[base + s] = score;
    m = max(m, score);
  }
  m = reduceMax(lid, m);
  var sum = 0.0;
  for (var s = lid; s < T; s += WG) {
    let e = exp(att[base + s] - m);
    att[base + s] = e;
    sum += e;
  }
  let inv = 1.0 / reduceSum(lid, sum);
  for (var s = lid; s < T; s += WG) { att[base + s] *= inv; }
  storageBarrier(); // every thread's probabilities are visible before the weighted sum
  for (var d = lid; d < HS; d += WG) {
    var acc = 0.0;
    for (var s = 0u; s < T; s++) { acc += att[base + s] * vcache[(s * dims.NKV + kh) * HS + d]; }
    out[qo + d] = acc;
  }
}

/** q[qo … qo + HS) · kcache[ko … ko + HS) / √HS, summed in order d = 0, 1, …. */
fn scaledDot(qo: u32, ko: u32) -> f32 {
  var acc = 0.0;
  for (var d = 0u; d < dims.HS; d++) { acc += q[qo + d] * kcache[ko + d]; }
  return acc * dims.scale;
}
