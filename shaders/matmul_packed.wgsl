// matmul_packed.wgsl — C = alpha · A · op(W) + beta · C (+ bias[n]) with W a frozen BF16 or F16 weight
// packed two per u32 (flat packing, src/ref/packed.ts): 2 bytes per parameter on the GPU, core WGSL only.
//
// The fast packed kernel: the 4×8 register-blocked loop of matmul_vec4_4x8 (lib/matmul_4x8_body.wgsl),
// A read as f32 vec4s and W four halves per load (a vec2<u32>), widened by lib/unpack_half.wgsl's
// half4_to_f32 (BF16: a shift or a mask and a bitcast, exact; F16: unpack2x16float, exact). Every product
// and sum is f32, so results match the F32 kernels on the widened weight up to summation order.
// Shapes: A (M, K) f32; W stored (K, N), or (N, K) when TRANS_B (x·Wᵀ for nn.Linear W (out, in); dy·W for
// its dx is not TRANS_B); bias (N) f32; C (M, N) f32. Needs K % 4 == 0, and N % 4 == 0 unless TRANS_B
// (matmul_packed_any.wgsl takes every other shape). F16 selects the IEEE half unpack, else BF16.
// Writes C with `=` when beta is 0 (C is then never read), else accumulates beta · C.
override WG_X: u32 = 16;
override WG_Y: u32 = 16;
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
// lib/matmul_store.wgsl (storeRow), lib/matmul_4x8_body.wgsl (matmul4x8: the 4×8 loop).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  matmul4x8(gid);
}
