// matmul_store.wgsl — the epilogue every vec4-operand matmul kernel shares (matmul_vec4, matmul_vec4_4x8,
// matmul_tiled, matmul_f16, matmul_subgroup): row m, columns n..n+3 of C get alpha · v (+ bias[n + j]
// under HAS_BIAS) (+ beta · C when beta ≠ 0: with beta = 0, C is never read), masked past M and N.
// Not an entry point: descriptors append it with `withLib` (src/gpu/kernel.ts). The including shader
// declares dims (M, N, alpha, beta), bias and c as array<f32>, and the HAS_BIAS override.
fn storeRow(base: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= dims.M) { return; }
  let row = base + m * dims.N;
  for (var j = 0u; j < 4u; j++) {
    if (n + j < dims.N) {
      var out = dims.alpha * v[j];
      if (HAS_BIAS) { out += bias[n + j]; }
      if (dims.beta != 0.0) { out += dims.beta * c[row + n + j]; }
      c[row + n + j] = out;
    }
  }
}
