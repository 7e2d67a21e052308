// rng_uniform.wgsl — out[i] = lo + (hi − lo) · u_i, u_i = (w_i >> 8) · 2⁻²⁴ ∈ [0, 1), where w_i is a
// word of the counter-based Philox4x32-10 generator (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011; the same function as Random123, cuRAND and PyTorch's Philox).
//
// Stream layout: key = (seedLo, seedHi); element i is word (i mod 4) of
//   Philox4x32-10(counter = (ctr0 + ⌊i/4⌋, ctr1, ctr2, ctr3), key).
// The host API uses ctr = (0, offset, 0, 0): each offset is a disjoint stream of 2³⁴ elements, so
// offsets never overlap however long the fills are. The full counter is exposed for tests (the
// Random123 known-answer vectors) and raw use.
// A result that rounds up to hi is mapped to lo (as PyTorch's uniform_), so the range stays [lo, hi).
// RAW_BITS writes the Philox words themselves (out holds 32-bit words either way; floats are
// stored through bitcast, which is exact).
// Threads: one thread per Philox block of 4 elements; the grid may be folded into (x, y) above 65535
// workgroups (flat workgroup index wid.x + wid.y · nwg.x). Nothing cached. Writes out with `=`.
// The Philox functions are duplicated in rng_normal.wgsl (WGSL has no includes); keep them identical.
override WG: u32 = 64;
override RAW_BITS: bool = false;

struct Dims {
  n: u32, seedLo: u32, seedHi: u32,
  ctr0: u32, ctr1: u32, ctr2: u32, ctr3: u32,
  lo: f32, hi: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;   // golden ratio
const PHILOX_W1: u32 = 0xBB67AE85u;   // √3 − 1

/** (hi, lo) words of the 64-bit product a·b. WGSL has no 64-bit integers: multiply 16-bit halves. */
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xFFFFu; let a1 = a >> 16u;
  let b0 = b & 0xFFFFu; let b1 = b >> 16u;
  let p01 = a0 * b1; let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);   // < 3·2¹⁶: no overflow
  let hi = a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k += vec2<u32>(PHILOX_W0, PHILOX_W1); }   // key bump between rounds
    let p0 = mulhilo(PHILOX_M0, c.x);
    let p1 = mulhilo(PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let block = (wid.x + wid.y * nwg.x) * WG + lid;
  let base = block * 4u;
  if (base >= dims.n) { return; }
  let words = philox4x32_10(vec4<u32>(dims.ctr0 + block, dims.ctr1, dims.ctr2, dims.ctr3),
                            vec2<u32>(dims.seedLo, dims.seedHi));
  for (var j = 0u; j < 4u; j++) {
    if (base + j >= dims.n) { break; }
    if (RAW_BITS) {
      out[base + j] = words[j];
    } else {
      let u = f32(words[j] >> 8u) * (1.0 / 16777216.0);   // exact: 24 bits into a 24-bit mantissa
      let x = dims.lo + (dims.hi - dims.lo) * u;
      out[base + j] = bitcast<u32>(select(x, dims.lo, x >= dims.hi));
    }
  }
}
