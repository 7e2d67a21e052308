// matmul_packed_f16.wgsl — matmul_packed.wgsl for F16 weights on a device with `shader-f16`: the weight
// is bound as array<vec4<f16>> and each quad of halves is read natively and widened to f32 (exact), in
// place of the core-WGSL unpack. Products and sums stay f32, so its results equal matmul_packed's bit for
// bit in exact arithmetic and differ only where a compiler reorders f32 sums.
// Only for F16 weights: BF16 bits are not f16 values (8 exponent bits against 5; BF16's range, ~1e-38 to
// 3e38, does not fit f16's 6e-8 to 65504), so a BF16 weight read as f16 would be wrong, and converting it
// would need the same shift-and-bitcast as the core path.
// Same shapes, alignment and bindings as matmul_packed.wgsl. Needs `shader-f16` (the selector offers it
// only where the device has it: src/kernels/packed_variants.ts).
enable f16;

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;

struct Dims {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn wQuad(i: u32) -> vec4<f32> {
  return vec4<f32>(w[i]);
}

// Appended by the descriptor: lib/matmul_packed_load.wgsl (loadA, loadB), lib/matmul_store.wgsl (storeRow),
// lib/matmul_4x8_body.wgsl (matmul4x8: the 4×8 loop).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  matmul4x8(gid);
}
