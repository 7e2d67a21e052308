// matmul_vec4_8x8.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), vec4 loads,
// 8×8 outputs per thread (four 4×4 quarters).
//
// Same contract and alignment needs as matmul_vec4_4x8.wgsl. Why a larger block: SwiftShader runs each
// invocation as one lane of a 4-wide SIMD, so every storage load with a per-thread address is a gather, a
// scalar load per lane, while a multiply-add serves four lanes at once. Per step over k this kernel loads 16
// vec4s (two 4×4 blocks of op(A), two of op(B)) for 256 multiply-adds, against 12 for 128 in the 4×8 kernel:
// a third fewer loads per FLOP. The price is 64 accumulators per thread (they spill on x86; stack traffic is
// cheaper than gathers) and a quarter as many threads as 4×4: the selector takes it only where it measured
// faster (src/kernels/matmul_variants.ts). No workgroup memory, no barriers.
// Rows/cols past the edge are clamped on load and masked on store; a second half (rows m0+4.., columns
// n0+4..) is stored only when it starts inside C. C is stored scalar.
override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;

struct Dims {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// loadA / loadB (4×4 blocks as vec4s): shaders/lib/matmul_vec4_load.wgsl; storeRow: shaders/lib/matmul_store.wgsl
// (both appended by the descriptor).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * 8u;
  let n0 = gid.x * 8u;
  if (m0 >= dims.M || n0 >= dims.N) { return; }
  let z = gid.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
  // The second block's first row/column, clamped to the last aligned block so its loads stay in bounds
  // (a transposed operand is read by aligned vec4 columns); its results are then masked or not stored.
  let m1 = min(m0 + 4u, ((dims.M - 1u) / 4u) * 4u);
  let n1 = min(n0 + 4u, ((dims.N - 1u) / 4u) * 4u);
  let zero = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  var c00 = zero; // rows m0.., columns n0..
  var c01 = zero; // rows m0.., columns n0+4..
  var c10 = zero; // rows m0+4.., columns n0..
  var c11 = zero; // rows m0+4.., columns n0+4..
  for (var k = 0u; k < dims.K; k += 4u) {
    let a0 = loadA(baseA, m0, k);
    let a1 = loadA(baseA, m1, k);
    let b0 = loadB(baseB, k, n0);
    let b1 = loadB(baseB, k, n1);
    // a0[i] is row m0+i of op(A) at k..k+3 and column j of b0 is row k+j of op(B) at n0..n0+3, so
    // row i of the block gains Σ_j a0[i][j] · b0[j] == b0 * a0[i] (matrix × vector), as in matmul_vec4.
    c00[0] += b0 * a0[0];
    c00[1] += b0 * a0[1];
    c00[2] += b0 * a0[2];
    c00[3] += b0 * a0[3];
    c01[0] += b1 * a0[0];
    c01[1] += b1 * a0[1];
    c01[2] += b1 * a0[2];
    c01[3] += b1 * a0[3];
    c10[0] += b0 * a1[0];
    c10[1] += b0 * a1[1];
    c10[2] += b0 * a1[2];
    c10[3] += b0 * a1[3];
    c11[0] += b1 * a1[0];
    c11[1] += b1 * a1[1];
    c11[2] += b1 * a1[2];
    c11[3] += b1 * a1[3];
  }
  let baseC = z * dims.strideC;
  let right = n0 + 4u < dims.N;
  for (var i = 0u; i < 4u; i++) {
    storeRow(baseC, m0 + i, n0, c00[i]);
    if (right) { storeRow(baseC, m0 + i, n0 + 4u, c01[i]); }
  }
  if (m0 + 4u < dims.M) {
    for (var i = 0u; i < 4u; i++) {
      storeRow(baseC, m0 + 4u + i, n0, c10[i]);
      if (right) { storeRow(baseC, m0 + 4u + i, n0 + 4u, c11[i]); }
    }
  }
}
