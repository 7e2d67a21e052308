// matmul_packed_load.wgsl — the block loads of the aligned packed-weight matmuls (matmul_packed.wgsl,
// matmul_packed_f16.wgsl for lib/matmul_4x8_body.wgsl; matmul_packed_quad.wgsl for lib/matmul_quad_body.wgsl):
// op(A) from f32 vec4s, op(W) four halves at a time through the including shader's
//   fn wQuad(i: u32) -> vec4<f32>   halves 4i..4i+3 of the flat-packed weight (src/ref/packed.ts), widened
// so the kernels differ only in how a quad is read (core-WGSL unpack, or native f16) and in their loop.
// Alignment (the host's fitsPackedVec4): K % 4 == 0, and N % 4 == 0 when W is stored (K, N), so every
// quad lies inside one row of W. Rows past M and N are clamped (storeRow masks them). A packed weight is
// one matrix (no transA, no batch): `base` is 0.
// The including shader declares dims (M, N, K), a as array<vec4<f32>> and the TRANS_B override.

// Rows m0..m0+3 of A (M, K) at columns k..k+3, one vec4 per row.
fn loadA(base: u32, m0: u32, k: u32) -> mat4x4<f32> {
  let last = dims.M - 1u;
  let rowLen = dims.K / 4u;
  let k4 = base + k / 4u;
  return mat4x4<f32>(a[m0 * rowLen + k4], a[min(m0 + 1u, last) * rowLen + k4],
                     a[min(m0 + 2u, last) * rowLen + k4], a[min(m0 + 3u, last) * rowLen + k4]);
}

// Rows k..k+3 of op(W) at columns n0..n0+3, one vec4 per k.
fn loadB(base: u32, k: u32, n0: u32) -> mat4x4<f32> {
  if (TRANS_B) {
    // W stored (N, K) (nn.Linear's (out, in) read as x·Wᵀ): rows n0..n0+3 along k, transposed so each
    // column is one k.
    let last = dims.N - 1u;
    let rowLen = dims.K / 4u;
    let k4 = base + k / 4u;
    let t = mat4x4<f32>(wQuad(n0 * rowLen + k4), wQuad(min(n0 + 1u, last) * rowLen + k4),
                        wQuad(min(n0 + 2u, last) * rowLen + k4), wQuad(min(n0 + 3u, last) * rowLen + k4));
    return transpose(t);
  }
  // W stored (K, N): one quad of row k+j per column.
  let rowLen = dims.N / 4u;
  let col = base + n0 / 4u;
  return mat4x4<f32>(wQuad(k * rowLen + col), wQuad((k + 1u) * rowLen + col),
                     wQuad((k + 2u) * rowLen + col), wQuad((k + 3u) * rowLen + col));
}
