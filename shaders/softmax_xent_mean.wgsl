// softmax_xent_mean.wgsl — loss[0] = Σ_{r : target[r] ≠ ignoreIndex} losses[r] / count,
//   count = #{r : target[r] ≠ ignoreIndex};  loss[0] = 0 when every row is ignored (torch gives NaN;
//   a batch of pure padding must not stop training). loss[1] = count, as f32 (exact below 2^24).
// Shapes: losses (BT) f32 from softmax_xent_forward; targets (BT) i32; loss (2) f32.
// Threads: ONE workgroup of WG threads (WG a power of two); thread i sums rows i, i + WG, ... in
// order, then a fixed tree reduction in workgroup memory: the result is bitwise reproducible.
// Writes loss with `=`. The trainer reads back only these 8 bytes per step.
override WG: u32 = 256;

struct Dims { BT: u32, ignoreIndex: i32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> losses: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;

var<workgroup> sums: array<f32, WG>;
var<workgroup> counts: array<u32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var n = 0u;
  for (var r = lid; r < dims.BT; r += WG) {
    if (targets[r] != dims.ignoreIndex) {
      s += losses[r];
      n += 1u;
    }
  }
  sums[lid] = s;
  counts[lid] = n;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      sums[lid] += sums[lid + k];
      counts[lid] += counts[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let count = counts[0];
    loss[0] = select(0.0, sums[0] / f32(count), count > 0u);
    loss[1] = f32(count);
  }
}
