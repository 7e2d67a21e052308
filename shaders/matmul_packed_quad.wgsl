// matmul_packed_quad.wgsl — C = alpha · A · op(W) + beta · C (+ bias[n]) with W a frozen BF16 or F16 weight
// packed two per u32 (flat packing, src/ref/packed.ts), 16×12 outputs per thread, A's rows shared by the four
// lanes of a quad.
//
// The F32 quad kernel's loop and stores (lib/matmul_quad_body.wgsl: why the 16×12 block and the quad-shared A
// cut SwiftShader's gathers per multiply-add) with matmul_packed.wgsl's loads: A as f32 vec4s, W four halves
// per load (a vec2<u32>, half the bytes of an f32 vec4 for the same four values), widened by
// lib/unpack_half.wgsl's half4_to_f32 (exact for BF16 and F16). Every product and sum is f32.
// Shapes and alignment as matmul_packed.wgsl: A (M, K) f32; W stored (K, N), or (N, K) when TRANS_B (x·Wᵀ for
// nn.Linear W (out, in); dy·W for its dx is not TRANS_B); bias (N) f32; C (M, N) f32; K % 4 == 0, and
// N % 4 == 0 unless TRANS_B. F16 selects the IEEE half unpack, else BF16.
// Needs the `subgroups` feature, subgroups of at least 4 lanes, and WG_X a multiple of 4 (as
// matmul_quad_16x12.wgsl); the host's trial checks it against the CPU reference on a device of other lanes.
enable subgroups;

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override F16: bool = false;

// matmul.wgsl's Dims: a packed weight is one matrix, so batch is 1 and the strides 0.
struct Dims {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn wQuad(i: u32) -> vec4<f32> {
  return half4_to_f32(w[i], F16);
}

// Appended by the descriptor: lib/unpack_half.wgsl, lib/matmul_packed_load.wgsl (loadA, loadB),
// lib/matmul_store.wgsl (storeRow), lib/matmul_quad_body.wgsl (matmulQuad: the 16×12 loop and stores).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) sgLane: u32) {
  matmulQuad(gid, sgLane);
}
