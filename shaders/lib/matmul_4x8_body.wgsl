// matmul_4x8_body.wgsl — the register-blocked main loop of the F32 kernel matmul_vec4_4x8.wgsl, shared with
// the packed-weight matmul kernels (matmul_packed.wgsl, matmul_packed_any.wgsl, matmul_packed_f16.wgsl);
// the operand loads are left to the including shader.
// Threads: one thread owns a 4×8 block of C (two 4×4 halves); each step over k takes a 4×4 block of op(A)
// and two 4×4 blocks of op(B) and does 128 multiply-adds, in f32. No workgroup memory, no barriers
// (both are slow on SwiftShader). The second half is skipped when it starts past N.
// Not an entry point: descriptors append it with `withLib` (src/gpu/kernel.ts), and the including shader's
// entry point calls matmul4x8(global_invocation_id). That shader declares dims (matmul.wgsl's Dims),
// storeRow (lib/matmul_store.wgsl) and
//   fn loadA(base: u32, m0: u32, k: u32) -> mat4x4<f32>  column i: row m0+i of op(A) at k..k+3
//   fn loadB(base: u32, k: u32, n0: u32) -> mat4x4<f32>  column j: row k+j of op(B) at n0..n0+3
// (rows past M and columns past N clamped; k..k+3 past K must read as 0 in one of them). `base` is the
// batch's offset in the operand's own load units.
fn matmul4x8(gid: vec3<u32>) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 8u;
  if (m0 >= dims.M || n0 >= dims.N) { return; }
  let z = gid.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
  // The second half's columns, clamped to the last whole block of 4 so its loads stay in bounds.
  let n1 = min(n0 + 4u, ((dims.N - 1u) / 4u) * 4u);
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  var acd = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k = 0u; k < dims.K; k += 4u) {
    let ab = loadA(baseA, m0, k);
    let bb = loadB(baseB, k, n0);
    let bc = loadB(baseB, k, n1);
    acc[0] += bb * ab[0];
    acc[1] += bb * ab[1];
    acc[2] += bb * ab[2];
    acc[3] += bb * ab[3];
    acd[0] += bc * ab[0];
    acd[1] += bc * ab[1];
    acd[2] += bc * ab[2];
    acd[3] += bc * ab[3];
  }
  let baseC = z * dims.strideC;
  storeRow(baseC, m0, n0, acc[0]);
  storeRow(baseC, m0 + 1u, n0, acc[1]);
  storeRow(baseC, m0 + 2u, n0, acc[2]);
  storeRow(baseC, m0 + 3u, n0, acc[3]);
  if (n0 + 4u < dims.N) {
    storeRow(baseC, m0, n0 + 4u, acd[0]);
    storeRow(baseC, m0 + 1u, n0 + 4u, acd[1]);
    storeRow(baseC, m0 + 2u, n0 + 4u, acd[2]);
    storeRow(baseC, m0 + 3u, n0 + 4u, acd[3]);
  }
}
