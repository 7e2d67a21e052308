// softmax_xent_backward.wgsl — dlogits[r, v] = (probs[r, v] − [v == target[r]]) · dims.scale
//
// The gradient of losses[r] = logsumexp(logits[r]) − logits[r, target[r]] is probs[r] − onehot(target[r]).
// For the mean over non-ignored rows, scale = dloss / count (count = rows whose target ≠ ignoreIndex),
// set by the host, which uploaded the targets and knows the count. Ignored rows get dlogits = 0; an
// invalid target (outside [0, V), not ignoreIndex) gets NaN, as in softmax_xent_forward.
// Shapes: probs (cached by the forward), dlogits (BT, V) row-major f32; targets (BT) i32.
// Threads: one thread per element of (BT, V); WG threads per workgroup, workgroups folded over
// (x, y) when more than 65535: i = (wid.x + wid.y · nwg.x) · WG + lid.
// Vocabulary chunks: probs and dlogits may hold columns [v0, v0 + V) of a vocabulary of VT
// (src/kernels/vocab_split.ts); targets are checked against VT and the one-hot sits at v0 + v.
// The whole vocabulary is v0 = 0, V = VT.
// Writes dlogits with `=`.
override WG: u32 = 256;

struct Dims { BT: u32, V: u32, ignoreIndex: i32, scale: f32, v0: u32, VT: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;

// A NaN built at run time: a NaN const-expression is a shader-creation error in WGSL.
fn quietNan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.BT * dims.V) { return; }
  let row = i / dims.V;
  let v = i - row * dims.V;
  let t = targets[row];
  if (t == dims.ignoreIndex) {
    dlogits[i] = 0.0;
    return;
  }
  if (t < 0 || u32(t) >= dims.VT) {
    dlogits[i] = quietNan(); // an invalid target
    return;
  }
  let onehot = select(0.0, 1.0, u32(t) == dims.v0 + v);
  dlogits[i] = (probs[i] - onehot) * dims.scale;
}
