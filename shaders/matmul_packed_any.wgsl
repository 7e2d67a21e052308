// matmul_packed_any.wgsl — matmul_packed.wgsl for every shape its alignment excludes: K not a multiple of
// 4, or W stored (K, N) with N not a multiple of 4, so a row of W may start mid-word. Same contract and
// the same 4×8 loop (lib/matmul_4x8_body.wgsl), but A and W are read element by element (W through
// lib/unpack_half.wgsl's half_to_f32). Rows past M and columns past N are clamped; k past K reads 0 from
// both operands (so a non-finite weight in the clamped column cannot leak in as 0 · inf).
override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override F16: bool = false;

struct Dims {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// A (M, K) at row m, columns k..k+3 (0 past K).
fn aRow(m: u32, k: u32) -> vec4<f32> {
  let row = m * dims.K;
  let last = dims.K - 1u;
  var v: vec4<f32>;
  for (var j = 0u; j < 4u; j++) {
    v[j] = select(0.0, a[row + min(k + j, last)], k + j < dims.K);
  }
  return v;
}

fn wAt(i: u32) -> f32 {
  return half_to_f32(w[i >> 1u], (i & 1u) == 1u, F16);
}

fn loadA(base: u32, m0: u32, k: u32) -> mat4x4<f32> {
  let last = dims.M - 1u;
  return mat4x4<f32>(aRow(m0, k), aRow(min(m0 + 1u, last), k), aRow(min(m0 + 2u, last), k), aRow(min(m0 + 3u, last), k));
}

// Rows k..k+3 of op(W) at columns n0..n0+3 (0 past K).
fn loadB(base: u32, k: u32, n0: u32) -> mat4x4<f32> {
  let lastN = dims.N - 1u;
  let lastK = dims.K - 1u;
  var t: mat4x4<f32>;
  for (var j = 0u; j < 4u; j++) {
    let kj = min(k + j, lastK);
    var col: vec4<f32>;
    for (var i = 0u; i < 4u; i++) {
      let n = min(n0 + i, lastN);
      col[i] = wAt(select(kj * dims.N + n, n * dims.K + kj, TRANS_B));
    }
    t[j] = select(vec4<f32>(0.0), col, k + j < dims.K);
  }
  return t;
}

// Appended by the descriptor: lib/unpack_half.wgsl, lib/matmul_store.wgsl (storeRow),
// lib/matmul_4x8_body.wgsl (matmul4x8: the 4×8 loop).

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  matmul4x8(gid);
}
