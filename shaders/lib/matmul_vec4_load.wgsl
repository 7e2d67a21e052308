// matmul_vec4_load.wgsl — the 4×4 block loads of the vec4 matmul kernels (matmul_vec4, matmul_vec4_4x8,
// matmul_subgroup, matmul_f16): one block of op(A) or op(B) as four vec4s, transposed in registers when the storage
// runs the other way, so column i of the result is always one row of op(A) (one k of op(B)). Rows and
// columns past M or N are clamped to the last one (every read stays in bounds; storeRow masks them);
// k..k+3 must lie below K (the caller's loop or guard). Not an entry point: descriptors append it with
// `withLib` (src/gpu/kernel.ts). The including shader declares dims (M, N, K), a and b as
// array<vec4<f32>>, and the TRANS_A / TRANS_B overrides.
// Rows m0..m0+3 of op(A) at columns k..k+3, one vec4 per row.
fn loadA(base4: u32, m0: u32, k: u32) -> mat4x4<f32> {
  let last = dims.M - 1u;
  if (TRANS_A) {
    // Stored (K, M): read rows k..k+3 along m, then transpose so each column is one m.
    let rowLen = dims.M / 4u;
    let col = m0 / 4u;
    let t = mat4x4<f32>(a[base4 + k * rowLen + col], a[base4 + (k + 1u) * rowLen + col],
                        a[base4 + (k + 2u) * rowLen + col], a[base4 + (k + 3u) * rowLen + col]);
    return transpose(t);
  }
  let rowLen = dims.K / 4u;
  let k4 = k / 4u;
  return mat4x4<f32>(a[base4 + m0 * rowLen + k4], a[base4 + min(m0 + 1u, last) * rowLen + k4],
                     a[base4 + min(m0 + 2u, last) * rowLen + k4], a[base4 + min(m0 + 3u, last) * rowLen + k4]);
}

// Rows k..k+3 of op(B) at columns n0..n0+3, one vec4 per k.
fn loadB(base4: u32, k: u32, n0: u32) -> mat4x4<f32> {
  let last = dims.N - 1u;
  if (TRANS_B) {
    // Stored (N, K): read rows n0..n0+3 along k, then transpose so each column is one k.
    let rowLen = dims.K / 4u;
    let k4 = k / 4u;
    let t = mat4x4<f32>(b[base4 + n0 * rowLen + k4], b[base4 + min(n0 + 1u, last) * rowLen + k4],
                        b[base4 + min(n0 + 2u, last) * rowLen + k4], b[base4 + min(n0 + 3u, last) * rowLen + k4]);
    return transpose(t);
  }
  let rowLen = dims.N / 4u;
  let col = n0 / 4u;
  return mat4x4<f32>(b[base4 + k * rowLen + col], b[base4 + (k + 1u) * rowLen + col],
                     b[base4 + (k + 2u) * rowLen + col], b[base4 + (k + 3u) * rowLen + col]);
}
