// softmax_xent_chunk_stats.wgsl — the softmax statistics of one vocabulary chunk, folded into the running
// statistics of the chunks before it (the logits are stored split in columns [v0, v0 + n) of a
// vocabulary of VT, src/kernels/vocab_split.ts; one launch per chunk, in order, in one pass):
//   m' = max(m, max_v logits[r, v]),  S' = S · exp(m − m') + Σ_v exp(logits[r, v] − m')
// (the first chunk starts from m = its own max, S = 0), so after the last chunk m and S are the whole
// row's max and Σ exp(x − max), exactly as the unchunked kernel defines them (the sum's order differs).
// The chunk holding the row's target stores its logit; the last chunk writes
//   losses[r] = m + log S − logits[r, target[r]]   (0 for ignoreIndex, NaN for a target outside [0, VT)),
// the same rules as softmax_xent_forward.wgsl.
// Shapes: logits (BT, n) f32; targets (BT) i32; stats (BT, 3) f32 = [m, S, target logit]; losses (BT) f32.
// Threads: one workgroup of WG threads per row (WG a power of two), tree reductions in workgroup memory;
// rows fold over (x, y) when BT > 65535. Writes stats and (last chunk) losses with `=`.
override WG: u32 = 256;

struct Dims { BT: u32, n: u32, ignoreIndex: i32, v0: u32, VT: u32, first: u32, last: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;

// rowMax, quietNan: shaders/lib/xent_row.wgsl; reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl
// (both appended by the descriptor).

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.BT) { return; } // uniform: the same for the whole workgroup
  let base = row * dims.n;
  let mk = rowMax(lid, base, dims.n);
  var m = mk;
  var carried = 0.0;
  if (dims.first == 0u) {
    // Every thread reads the running statistics before thread 0 rewrites them below (reduceSum's
    // barriers lie between).
    let mp = stats[row * 3u];
    m = max(mp, mk);
    carried = stats[row * 3u + 1u] * exp(mp - m);
  }
  var s = 0.0;
  for (var v = lid; v < dims.n; v += WG) { s += exp(logits[base + v] - m); }
  let total = reduceSum(lid, s) + carried;
  if (lid == 0u) {
    stats[row * 3u] = m;
    stats[row * 3u + 1u] = total;
    let t = targets[row];
    if (t >= 0 && u32(t) >= dims.v0 && u32(t) - dims.v0 < dims.n) { stats[row * 3u + 2u] = logits[base + u32(t) - dims.v0]; }
    if (dims.last != 0u) {
      if (t == dims.ignoreIndex) {
        losses[row] = 0.0;
      } else if (t < 0 || u32(t) >= dims.VT) {
        losses[row] = quietNan(); // an invalid target
      } else {
        losses[row] = m + log(total) - stats[row * 3u + 2u];
      }
    }
  }
}
