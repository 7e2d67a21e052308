// matmul_quad_body.wgsl — the main loop and stores of the quad kernels: matmul_quad_16x12.wgsl (F32) and
// matmul_packed_quad.wgsl (a BF16/F16 packed weight as B); the operand loads are left to the including shader.
// Why this shape: on SwiftShader every storage load with a per-lane address is a gather (a scalar load per lane
// per component), and the kernel lab measured those loads, not the multiply-adds, as two thirds of the 8×8
// kernel's time (docs/bench-swiftshader.md#quad16x12). Two things cut loads per multiply-add here:
// - a larger block: per step of 4 along k a thread needs 16 rows of op(A) and 12 columns of op(B) for 768
//   multiply-adds, against 8 and 8 for 256 in the 8×8 kernel;
// - the four lanes of a quad (subgroup lanes 4q..4q+3: one SIMD row of SwiftShader, four adjacent columns of
//   threads here) own the same 16 rows, so each lane loads one 4×4 block of them and takes the other three
//   by quadBroadcast, a register shuffle.
// Per step that is 4 + 12 vec4 loads per lane for 768 multiply-adds (8×8: 16 for 256).
// Needs the `subgroups` feature (the including shader enables it), subgroups of at least 4 lanes, and WG_X a
// multiple of 4 (so a quad never spans two rows of threads). Every lane runs the whole k loop (quadBroadcast
// wants uniform control flow): rows and columns past the edge are clamped on load, and only blocks that start
// inside C are stored.
// Not an entry point: descriptors append it with `withLib` (src/gpu/kernel.ts), and the including shader's
// entry point calls matmulQuad(global_invocation_id, subgroup_invocation_id). That shader declares dims
// (matmul.wgsl's Dims), storeRow (lib/matmul_store.wgsl) and
//   fn loadA(base: u32, m0: u32, k: u32) -> mat4x4<f32>  column i: row m0+i of op(A) at k..k+3
//   fn loadB(base: u32, k: u32, n0: u32) -> mat4x4<f32>  column j: row k+j of op(B) at n0..n0+3
// (m0 < M and n0 < N; later rows and columns clamped), with `base` the batch's offset in the operand's own
// load units.
fn matmulQuad(gid: vec3<u32>, sgLane: u32) {
  let mb = gid.y * 16u;
  let nb = gid.x * 12u;
  let z = gid.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
  // Block starts clamped to the last aligned block, so every load stays in bounds (a transposed operand is read
  // by aligned vec4 columns); a clamped block's results are not stored.
  let lastM = ((dims.M - 1u) / 4u) * 4u;
  let lastN = ((dims.N - 1u) / 4u) * 4u;
  // This lane's share of the quad's 16 rows: rows mb + 4·(lane in quad) ..+3.
  let mOwn = min(mb + 4u * (sgLane & 3u), lastM);
  let n0 = min(nb, lastN);
  let n1 = min(nb + 4u, lastN);
  let n2 = min(nb + 8u, lastN);
  let zero = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  // cIJ: rows mb + 4I.., columns nb + 4J..; column r of cIJ is row mb + 4I + r (as in matmul_vec4_8x8).
  var c00 = zero; var c01 = zero; var c02 = zero;
  var c10 = zero; var c11 = zero; var c12 = zero;
  var c20 = zero; var c21 = zero; var c22 = zero;
  var c30 = zero; var c31 = zero; var c32 = zero;
  for (var k = 0u; k < dims.K; k += 4u) {
    let mine = loadA(baseA, mOwn, k);
    // aI[r] is row mb + 4I + r of op(A) at k..k+3; bJ[j] is row k + j of op(B) at columns nb + 4J..+3, so
    // bJ · aI (matrix product) has column r = Σ_j aI[r][j] · bJ[j]: that row's outputs gain.
    // (quadBroadcast's lane must be a constant: one line per lane.)
    let a0 = mat4x4<f32>(quadBroadcast(mine[0], 0u), quadBroadcast(mine[1], 0u), quadBroadcast(mine[2], 0u), quadBroadcast(mine[3], 0u));
    let a1 = mat4x4<f32>(quadBroadcast(mine[0], 1u), quadBroadcast(mine[1], 1u), quadBroadcast(mine[2], 1u), quadBroadcast(mine[3], 1u));
    let a2 = mat4x4<f32>(quadBroadcast(mine[0], 2u), quadBroadcast(mine[1], 2u), quadBroadcast(mine[2], 2u), quadBroadcast(mine[3], 2u));
    let a3 = mat4x4<f32>(quadBroadcast(mine[0], 3u), quadBroadcast(mine[1], 3u), quadBroadcast(mine[2], 3u), quadBroadcast(mine[3], 3u));
    let b0 = loadB(baseB, k, n0);
    let b1 = loadB(baseB, k, n1);
    let b2 = loadB(baseB, k, n2);
    c00 += b0 * a0; c01 += b1 * a0; c02 += b2 * a0;
    c10 += b0 * a1; c11 += b1 * a1; c12 += b2 * a1;
    c20 += b0 * a2; c21 += b1 * a2; c22 += b2 * a2;
    c30 += b0 * a3; c31 += b1 * a3; c32 += b2 * a3;
  }
  if (mb >= dims.M || nb >= dims.N) { return; }
  let baseC = z * dims.strideC;
  storeQuadBlocks(baseC, mb, nb, c00, c01, c02);
  if (mb + 4u < dims.M) { storeQuadBlocks(baseC, mb + 4u, nb, c10, c11, c12); }
  if (mb + 8u < dims.M) { storeQuadBlocks(baseC, mb + 8u, nb, c20, c21, c22); }
  if (mb + 12u < dims.M) { storeQuadBlocks(baseC, mb + 12u, nb, c30, c31, c32); }
}

// Rows m..m+3 of three side-by-side 4×4 blocks starting at column n; a block starting past N is a clamped
// duplicate and is skipped (storeRow masks rows past M and columns past N within a block).
fn storeQuadBlocks(baseC: u32, m: u32, n: u32, x0: mat4x4<f32>, x1: mat4x4<f32>, x2: mat4x4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    storeRow(baseC, m + r, n, x0[r]);
    if (n + 4u < dims.N) { storeRow(baseC, m + r, n + 4u, x1[r]); }
    if (n + 8u < dims.N) { storeRow(baseC, m + r, n + 8u, x2[r]); }
  }
}
