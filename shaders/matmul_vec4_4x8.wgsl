// matmul_vec4_4x8.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), vec4 loads,
// 4×8 outputs per thread (kernel lab v5: twice the columns of matmul_vec4.wgsl per A load).
//
// Same contract as matmul.wgsl (shapes, TRANS_A/TRANS_B storage, batch strides, alpha/beta, bias),
// for operands whose contiguous dimension is a multiple of 4: A's (K, or M when TRANS_A) and B's
// (N, or K when TRANS_B); strides must be multiples of 4 too. The host picks this variant only then.
// Threads: one thread owns a 4×8 block of C (two 4×4 halves); each step over k loads a 4×4 block of
// op(A) and two of op(B) as vec4s and does 128 multiply-adds. No workgroup memory, no barriers.
// Rows/cols past the edge are clamped on load and masked on store; the second half is skipped when
// it starts past N. C is stored scalar.
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

// loadA / loadB (4×4 blocks as vec4s): shaders/lib/matmul_vec4_load.wgsl; storeRow: shaders/lib/matmul_store.wgsl
// (both appended by the descriptor).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 8u;
  if (m0 >= dims.M || n0 >= dims.N) { return; }
  let z = gid.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
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
