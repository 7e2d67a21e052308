// workgroup_reduce.wgsl — tree reductions over one workgroup, shared by the row kernels (softmax,
// softmax-xent, attention). Not an entry point: descriptors append it to their shader with
// `withLib` (src/kernels/kernel.ts), so the including shader's line numbers stay as written.
// The including shader declares `override WG: u32` (a power of two); every thread of the workgroup
// must call, and every thread gets the result. The trailing barrier lets a caller reduce again at once.
var<workgroup> red: array<f32, WG>;

fn reduceMax(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] = max(red[lid], red[lid + k]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // everyone has read red[0] before it is reused
  return r;
}

fn reduceSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
