// xent_row.wgsl — what softmax_xent_forward and softmax_xent_chunk_stats share about one row of logits:
// the lowest finite f32 (the max's start), a NaN for an invalid target, and the row's max across the
// workgroup. Not an entry point: descriptors append it with `withLib` (src/gpu/kernel.ts), together with
// shaders/lib/workgroup_reduce.wgsl. The including shader declares `override WG: u32` and
// `logits: array<f32>`; every thread of the workgroup must call rowMax, and every thread gets the result.
const LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32

// A NaN built at run time: a NaN const-expression is a shader-creation error in WGSL.
fn quietNan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// max over logits[base + v], v in [0, n): thread lid owns v = lid, lid + WG, ..., then a tree reduction.
fn rowMax(lid: u32, base: u32, n: u32) -> f32 {
  var m = LOWEST;
  for (var v = lid; v < n; v += WG) { m = max(m, logits[base + v]); }
  return reduceMax(lid, m);
}
