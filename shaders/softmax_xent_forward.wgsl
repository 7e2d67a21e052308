// softmax_xent_forward.wgsl — fused softmax + cross-entropy, per row r of the logits:
//   probs[r, v] = exp(logits[r, v] − m_r) / S_r,   m_r = max_v logits[r, v],  S_r = Σ_v exp(logits[r, v] − m_r)
//   losses[r]   = logsumexp(logits[r, :]) − logits[r, target[r]] = m_r + log S_r − logits[r, target[r]]
// A row whose target equals dims.ignoreIndex (−100, torch's default) is padding: losses[r] = 0 (its
// probs are still written). A target outside [0, V) that is not ignoreIndex writes a NaN loss, so the
// non-finite check stops training instead of reading out of bounds.
// Shapes: logits, probs (BT, V) row-major f32; targets (BT) i32; losses (BT) f32.
// Threads: one workgroup of WG threads per row (WG a power of two); thread i owns the columns
// i, i + WG, ...; max and sum are tree reductions in workgroup memory. Rows fold over (x, y)
// workgroup ids when BT > 65535: row = wid.x + wid.y · nwg.x.
// Caches probs for softmax_xent_backward. Writes probs and losses with `=`.
override WG: u32 = 256;

struct Dims { BT: u32, V: u32, ignoreIndex: i32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> losses: array<f32>;

// rowMax, quietNan: shaders/lib/xent_row.wgsl; reduceSum over the workgroup: shaders/lib/workgroup_reduce.wgsl
// (both appended by the descriptor).

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= dims.BT) { return; } // uniform: the same for the whole workgroup
  let base = row * dims.V;
  let m = rowMax(lid, base, dims.V);
  var s = 0.0;
  for (var v = lid; v < dims.V; v += WG) {
    let e = exp(logits[base + v] - m);
    probs[base + v] = e; // read back below by this same thread only: no barrier needed
    s += e;
  }
  let total = reduceSum(lid, s);
  let inv = 1.0 / total;
  for (var v = lid; v < dims.V; v += WG) { probs[base + v] *= inv; }
  if (lid == 0u) {
    let t = targets[row];
    if (t == dims.ignoreIndex) {
      losses[row] = 0.0;
    } else if (t < 0 || u32(t) >= dims.V) {
      losses[row] = quietNan(); // an invalid target
    } else {
      losses[row] = m + log(total) - logits[base + u32(t)];
    }
  }
}
