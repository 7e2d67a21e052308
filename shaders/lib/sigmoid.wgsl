// sigmoid.wgsl — σ(v) = 1/(1 + e^(−v)) and 1 − σ(v), shared by swiglu_forward and swiglu_backward.
// Not an entry point: descriptors append it with `withLib` (src/kernels/kernel.ts).
// Both come from en = e^(−|v|) ∈ (0, 1], so nothing overflows (WGSL lets an implementation assume
// that no infinity appears) and 1 − σ is never a difference of nearly equal numbers:
//   v ≥ 0: σ = 1/(1 + en),   1 − σ = en/(1 + en)
//   v < 0: σ = en/(1 + en),  1 − σ = 1/(1 + en)
fn sigmoid(v: f32) -> vec2<f32> {
  let en = exp(-abs(v));
  let r = 1.0 / (1.0 + en);
  let small = en * r; // en/(1 + en)
  return select(vec2<f32>(small, r), vec2<f32>(r, small), v >= 0.0);
}
