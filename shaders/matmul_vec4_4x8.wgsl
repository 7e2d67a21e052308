// matmul_vec4_4x8.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), vec4 loads,
// 4×8 outputs per thread (kernel lab v5: twice the columns of matmul_vec4.wgsl per A load).
//
// Same contract as matmul.wgsl (shapes, TRANS_A/TRANS_B storage, batch strides, alpha/beta, bias),
// for operands whose contiguous dimension is a multiple of 4: A's (K, or M when TRANS_A) and B's
// (N, or K when TRANS_B); strides must be multiples of 4 too. The host picks this variant only then.
// Threads: one thread owns a 4×8 block of C (two 4×4 halves), lib/matmul_4x8_body.wgsl. Rows/cols past
// the edge are clamped on load and masked on store. C is stored scalar.
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

// loadA / loadB (4×4 blocks as vec4s): shaders/lib/matmul_vec4_load.wgsl; storeRow: shaders/lib/matmul_store.wgsl;
// the loop, matmul4x8: shaders/lib/matmul_4x8_body.wgsl (shared with the packed-weight kernels). All three are
// appended by the descriptor.

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  matmul4x8(gid);
}
