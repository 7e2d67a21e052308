// matmul_quad_16x12.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), vec4 loads,
// 16×12 outputs per thread, op(A) shared by the four lanes of a quad.
//
// Same contract and alignment needs as matmul_vec4_8x8.wgsl. The loop and stores, and why this shape cuts the
// storage loads (gathers on SwiftShader) per multiply-add, are lib/matmul_quad_body.wgsl, shared with the
// packed-weight quad kernel (matmul_packed_quad.wgsl); this file gives it f32 vec4 operands.
// Needs the `subgroups` feature, subgroups of at least 4 lanes, and WG_X a multiple of 4 (so a quad never
// spans two rows of threads); the host checks it against the CPU reference before choosing it on a device
// whose lanes are numbered otherwise.
enable subgroups;

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

// Appended by the descriptor: lib/matmul_vec4_load.wgsl (loadA / loadB: 4×4 blocks as vec4s),
// lib/matmul_store.wgsl (storeRow), lib/matmul_quad_body.wgsl (matmulQuad: the 16×12 loop and stores).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) sgLane: u32) {
  matmulQuad(gid, sgLane);
}
