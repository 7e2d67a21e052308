// rng_normal.wgsl — out[i] = mean + stddev · z_i, z_i ~ N(0, 1) by the Box–Muller transform (Box &
// Muller 1958) of Philox4x32-10 words (Salmon et al., SC 2011; as Random123, cuRAND and PyTorch).
//
// Stream layout: the same as rng_uniform.wgsl — key = (seedLo, seedHi), block b = ⌊i/4⌋ uses
//   (w0, w1, w2, w3) = Philox4x32-10(counter = (ctr0 + b, ctr1, ctr2, ctr3), key),
// and the host API uses ctr = (0, offset, 0, 0). Each pair of words gives two normals:
//   u1 = ((w0 >> 8) + 1) · 2⁻²⁴ ∈ (0, 1]   (1 − u in distribution; exact in f32, never 0, so log is finite)
//   t  = 2 · (w1 >> 8) · 2⁻²⁴ − 1 ∈ [−1, 1)  (exact), θ = π·t
//   r  = √(−2 ln u1);   z_{4b} = r cos θ,  z_{4b+1} = r sin θ;   likewise (w2, w3) → z_{4b+2}, z_{4b+3}.
// log, sin and cos are evaluated here rather than by the builtins: WGSL only bounds sin/cos to an
// absolute 2⁻¹¹ (SwiftShader's are off by ~2e-4) and log to an absolute 2⁻²¹ (so r is wrong when u1 is
// near 1). With exact argument reduction and short series, every device agrees with the Float64
// reference to a few f32 ulps.
// Threads: one thread per Philox block of 4 elements; the grid may be folded into (x, y) above 65535
// workgroups (flat workgroup index wid.x + wid.y · nwg.x). Nothing cached. Writes out with `=`.
// The Philox functions are duplicated from rng_uniform.wgsl (WGSL has no includes); keep them identical.
override WG: u32 = 64;

struct Dims {
  n: u32, seedLo: u32, seedHi: u32,
  ctr0: u32, ctr1: u32, ctr2: u32, ctr3: u32,
  mean: f32, stddev: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

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

const PI: f32 = 3.14159265358979;
const LN2: f32 = 0.693147180559945;
const SQRT_HALF: f32 = 0.707106781186548;

/** ln x for x > 0: x = m·2^e with m ∈ [√½, √2), ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172. */
fn lnPositive(x: f32) -> f32 {
  let fe = frexp(x);                                   // x = fract · 2^exp, fract ∈ [½, 1)
  let low = fe.fract < SQRT_HALF;
  let m = select(fe.fract, 2.0 * fe.fract, low);
  let e = f32(select(fe.exp, fe.exp - 1, low));
  let s = (m - 1.0) / (m + 1.0);                       // m − 1 is exact (Sterbenz)
  let s2 = s * s;
  let atanh = s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
  return e * LN2 + 2.0 * atanh;
}

/** (cos πt, sin πt) for t ∈ [−1, 1]: t = q/2 + r exactly, |r| ≤ ¼, Taylor series in x = πr, rotate by q. */
fn cosSinPi(t: f32) -> vec2<f32> {
  let q = round(2.0 * t);
  let x = PI * (t - 0.5 * q);                          // t − q/2 is exact
  let x2 = x * x;
  let s = x * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))));
  let c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0 * (1.0 - x2 / 90.0))));
  switch (i32(q) & 3) {                                // θ = πr + q·π/2
    case 1: { return vec2<f32>(-s, c); }
    case 2: { return vec2<f32>(-c, -s); }
    case 3: { return vec2<f32>(s, -c); }
    default: { return vec2<f32>(c, s); }
  }
}

/** Two standard normals from two Philox words. */
fn boxMuller(wa: u32, wb: u32) -> vec2<f32> {
  let u1 = f32((wa >> 8u) + 1u) * (1.0 / 16777216.0);
  let t = 2.0 * (f32(wb >> 8u) * (1.0 / 16777216.0)) - 1.0;
  let r = sqrt(-2.0 * lnPositive(u1));
  return r * cosSinPi(t);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let block = (wid.x + wid.y * nwg.x) * WG + lid;
  let base = block * 4u;
  if (base >= dims.n) { return; }
  let w = philox4x32_10(vec4<u32>(dims.ctr0 + block, dims.ctr1, dims.ctr2, dims.ctr3),
                        vec2<u32>(dims.seedLo, dims.seedHi));
  let z01 = boxMuller(w.x, w.y);
  let z23 = boxMuller(w.z, w.w);
  let z = vec4<f32>(z01, z23);
  for (var j = 0u; j < 4u; j++) {
    if (base + j >= dims.n) { break; }
    out[base + j] = dims.mean + dims.stddev * z[j];
  }
}
