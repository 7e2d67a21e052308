// gelu_forward.wgsl — out = gelu(x), elementwise.
//   TANH_FORM (HF `gelu_new`, GPT-2):  gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   otherwise (HF `gelu`, ViT):        gelu(x) = x·Φ(x) = 0.5·x·erfc(−x/√2)   (= 0.5·x·(1 + erf(x/√2)))
//
// Shapes: x, out are flat f32 arrays of n elements (e.g. (B, T, 4C) row-major).
// Threads: one thread per element, WG per workgroup; the workgroup count is folded into (x, y) above
// 65535 (kernel.ts fold2d): flat index (wid.x + wid.y·nwg.x)·WG + lid, masked by `i < n`.
// Numerics: ½(1 + tanh u) is evaluated as the identical σ(2u) = 1/(1 + e^{−2u}) with u clamped to
// ±40, so nothing overflows (a tanh built from e^{2u} gives inf/inf = NaN for large |u|) and the left
// tail keeps its relative accuracy instead of cancelling in 1 + tanh u. WGSL has no erf: erfcApprox is
// Numerical Recipes §6.2 `erfcc`, fractional error < 1.2e-7 for every x (A&S 7.1.26 is only 1.5e-7
// absolute, too coarse for Φ in the left tail); src/ref/gelu.ts checks it against a Float64 erf.
// Caches nothing (backward reads x again). Writes out with `=`.
override WG: u32 = 256;
override TANH_FORM: bool = true;

struct Dims { n: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_C: f32 = 0.044715;
const SQRT1_2: f32 = 0.7071067811865476;

/** erfc(v); |v| is clamped at 10 (erfc 10 ≈ 2e-45 is 0 in f32) so −v² stays finite. */
fn erfcApprox(v: f32) -> f32 {
  let z = min(abs(v), 10.0);
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let ans = t * exp(-z * z + p);
  return select(2.0 - ans, ans, v >= 0.0);
}

/** The tanh argument u(x), clamped to ±40 (x is clamped first so x³ cannot overflow). */
fn tanhArg(v: f32) -> f32 {
  let xc = clamp(v, -20.0, 20.0);
  return clamp(SQRT_2_OVER_PI * (xc + GELU_C * xc * xc * xc), -40.0, 40.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let v = x[i];
  if (TANH_FORM) {
    out[i] = v / (1.0 + exp(-2.0 * tanhArg(v)));
  } else {
    out[i] = 0.5 * v * erfcApprox(-v * SQRT1_2);
  }
}
