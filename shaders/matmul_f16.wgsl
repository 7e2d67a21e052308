// matmul_f16.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), products in f16.
//
// Same contract and layout as matmul_vec4.wgsl (f32 buffers in and out, vec4 loads, a 4×4 block of C per
// thread, operands whose contiguous dimension is a multiple of 4), but each 4×4 block of op(A) and op(B)
// is rounded to f16 once loaded and the 4-term dot products are done in f16 (twice the arithmetic rate
// on most GPUs, half the register bytes); the running sum over k stays f32. Needs `shader-f16`.
// Precision: inputs keep 11 significant bits (relative rounding 2⁻¹¹ ≈ 4.9e-4) and each 4-term partial
// sum rounds again in f16, so |C − C_f32| grows like ~1e-3 · Σ_k |a||b|; values beyond ±65504 become ±inf.
// That is far outside the engine's f32 tolerances (1e-4), so the selector never picks it for training:
// it is offered only to callers that ask for reduced precision (inference, benchmarks).
enable f16;

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
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

// loadA / loadB (4×4 blocks as f32 vec4s, transposed for TRANS_A / TRANS_B): shaders/lib/matmul_vec4_load.wgsl;
// storeRow (alpha, bias, beta; masked past M and N): shaders/lib/matmul_store.wgsl (both appended by the
// descriptor). Each loaded block is rounded to f16 here, once, before its products.

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= dims.M || n0 >= dims.N) { return; }
  let z = gid.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k = 0u; k < dims.K; k += 4u) {
    let ab = mat4x4<f16>(loadA(baseA, m0, k));
    let bb = mat4x4<f16>(loadB(baseB, k, n0));
    // Four f16 dot products of length 4, widened before they join the f32 running sums.
    acc[0] += vec4<f32>(bb * ab[0]);
    acc[1] += vec4<f32>(bb * ab[1]);
    acc[2] += vec4<f32>(bb * ab[2]);
    acc[3] += vec4<f32>(bb * ab[3]);
  }
  let baseC = z * dims.strideC;
  storeRow(baseC, m0, n0, acc[0]);
  storeRow(baseC, m0 + 1u, n0, acc[1]);
  storeRow(baseC, m0 + 2u, n0, acc[2]);
  storeRow(baseC, m0 + 3u, n0, acc[3]);
}
