// nonfinite_count.wgsl — result[0] += #{i : x[xOffset + i] is NaN or ±Inf},
// result[1] = min(result[1], indexBase + first such i). The guard before an optimizer step (skip the
// step on overflow, as loss scalers do) and the "where did it blow up" report.
//
// Test on bits: an f32 is NaN or ±Inf exactly when its exponent bits are all ones,
// (bits & 0x7f800000) == 0x7f800000. x is bound as array<u32>: reading the raw words is the same test as
// bitcast<u32>(x) on an f32 load, with no float value in between, so NaN canonicalisation, denormal
// flushing or a compiler folding `x != x` to false (fast-math) cannot change the answer. −0, denormals
// and ±FLT_MAX are finite and never counted.
//
// Shapes: x flat f32 (read as u32 words), elements [xOffset, xOffset + n); result is (2,) u32.
// The host zeroes result[0] and sets result[1] = 0xffffffff (no index) before the first tensor; several
// tensors then accumulate into one result, indexBase giving each a distinct range of flat indices.
// Threads: one thread per element; the grid may be folded into (x, y) above 65535 workgroups (flat
// workgroup index wid.x + wid.y · nwg.x). Only offending elements touch the atomics, so the common
// all-finite case costs one load per element. Accumulates (+=, atomicAdd / atomicMin); caches nothing.
override WG: u32 = 256;

struct Dims { n: u32, xOffset: u32, indexBase: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> result: array<atomic<u32>, 2>;

const EXP_MASK: u32 = 0x7f800000u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  if ((x[dims.xOffset + i] & EXP_MASK) == EXP_MASK) {
    atomicAdd(&result[0], 1u);
    atomicMin(&result[1], dims.indexBase + i);
  }
}
