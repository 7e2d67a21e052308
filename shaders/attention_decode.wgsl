// attention_decode.wgsl — one new query attending over the KV cache (GPT-2 generation, B = 1):
//   score[h, s]   = (q[h·HS : (h+1)·HS] · kcache[s, h·HS : (h+1)·HS]) / √HS     for s < T
//   att[h, s]     = softmax_s(score[h, :])
//   out[h·HS + d] = Σ_s att[h, s] · vcache[s, h·HS + d]
// No mask: the cache holds only positions ≤ the query's (the new key is appended before this runs),
// so GPT-2's causal mask holds by construction. T counts the cached keys, the new one included.
// Shapes: qkv (3C) is the step's c_attn output row; only its Q third, columns [0, C), is read
// (head h = [h·HS, (h+1)·HS), C = NH·HS). kcache, vcache (maxT, C), rows s < T valid, same head
// slicing. att (NH, T) scratch, row stride T. out (C), channels re-interleaved as GPT-2 does.
// Threads: one workgroup of WG threads (a power of two) per head (folded over (x, y) when NH > 65535:
// h = wid.x + wid.y · nwg.x). Thread i owns the keys s = i, i + WG, …: it stores raw scores in att
// and rescales them in place; the max and the sum of exponentials are tree reductions in workgroup
// memory. After a storage barrier, thread i owns the output channels d = i, i + WG, … < HS.
// Caches nothing (att is scratch, kept only for inspection). Writes att and out with `=`.
override WG: u32 = 64;

struct Dims { T: u32, C: u32, NH: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
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
  let C = dims.C;
  let col = h * dims.HS;
  let base = h * T;
  var m = LOWEST;
  for (var s = lid; s < T; s += WG) {
    let k = s * C + col;
    var dot = 0.0;
    for (var d = 0u; d < dims.HS; d++) { dot += qkv[col + d] * kcache[k + d]; }
    let score = dot * dims.scale;
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
  for (var d = lid; d < dims.HS; d += WG) {
    var acc = 0.0;
    for (var s = 0u; s < T; s++) { acc += att[base + s] * vcache[s * C + col + d]; }
    out[col + d] = acc;
  }
}
