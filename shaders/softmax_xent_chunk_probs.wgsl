// softmax_xent_chunk_probs.wgsl — probs[r, v] = exp(logits[r, v] − m_r) · (1 / S_r) for one vocabulary
// chunk, with m_r and S_r the whole row's statistics from softmax_xent_chunk_stats.wgsl (after its last
// chunk). The same expression as softmax_xent_forward.wgsl's, so a chunk's probs differ from the
// unchunked ones only through S_r's summation order.
// Shapes: logits, probs (BT, n) f32; stats (BT, 3) f32 = [m, S, target logit].
// Threads: one per element, WG per workgroup, folded over (x, y). Writes probs with `=`.
override WG: u32 = 256;

struct Dims { BT: u32, n: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.BT * dims.n) { return; }
  let row = i / dims.n;
  let inv = 1.0 / stats[row * 3u + 1u];
  probs[i] = exp(logits[i] - stats[row * 3u]) * inv;
}
