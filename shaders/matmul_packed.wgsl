// matmul_packed.wgsl — C = alpha · A · op(W) + beta · C (+ bias[n]) with W a frozen half-precision weight
//
// As matmul.wgsl (4×4 register blocking, no workgroup memory, no barrier; out-of-range rows/columns
// clamped on load and masked on store), but the B operand is a BF16 or F16 weight packed two per u32
// (flat packing, src/ref/packed.ts; unpacked by shaders/lib/unpack_half.wgsl): 2 bytes per parameter on
// the GPU, and nothing but core WGSL. Every product accumulates in f32.
// Shapes: A (M, K) f32 row-major; W stored (K, N), or (N, K) when TRANS_B (x·Wᵀ for nn.Linear
// W (out, in); dy·W for the backward is not TRANS_B); bias (N) f32; C (M, N) f32. No batch: a weight is
// one matrix. F16 selects the IEEE half unpack, else BF16.
// Writes C with `=` when beta is 0 (C is then never read), else accumulates beta · C.
override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override F16: bool = false;

struct Dims { M: u32, N: u32, K: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn wAt(i: u32) -> f32 {
  return half_to_f32(w[i >> 1u], (i & 1u) == 1u, F16);
}

fn loadB(k: u32, n: u32) -> vec4<f32> {
  let n1 = min(n + 1u, dims.N - 1u);
  let n2 = min(n + 2u, dims.N - 1u);
  let n3 = min(n + 3u, dims.N - 1u);
  if (TRANS_B) {
    return vec4<f32>(wAt(n * dims.K + k), wAt(n1 * dims.K + k), wAt(n2 * dims.K + k), wAt(n3 * dims.K + k));
  }
  let row = k * dims.N;
  return vec4<f32>(wAt(row + n), wAt(row + n1), wAt(row + n2), wAt(row + n3));
}

fn storeRow(m: u32, n: u32, v: vec4<f32>) {
  if (m >= dims.M) { return; }
  var bv = vec4<f32>(0.0);
  if (HAS_BIAS) {
    bv = vec4<f32>(bias[n], bias[min(n + 1u, dims.N - 1u)],
                   bias[min(n + 2u, dims.N - 1u)], bias[min(n + 3u, dims.N - 1u)]);
  }
  let row = m * dims.N;
  for (var j = 0u; j < 4u; j++) {
    if (n + j < dims.N) {
      var out = dims.alpha * v[j] + bv[j];
      if (dims.beta != 0.0) { out += dims.beta * c[row + n + j]; }
      c[row + n + j] = out;
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= dims.M || n0 >= dims.N) { return; }
  let m1 = min(m0 + 1u, dims.M - 1u);
  let m2 = min(m0 + 2u, dims.M - 1u);
  let m3 = min(m0 + 3u, dims.M - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < dims.K; k++) {
    let bv = loadB(k, n0);
    acc0 += a[m0 * dims.K + k] * bv;
    acc1 += a[m1 * dims.K + k] * bv;
    acc2 += a[m2 * dims.K + k] * bv;
    acc3 += a[m3 * dims.K + k] * bv;
  }
  storeRow(m0, n0, acc0);
  storeRow(m0 + 1u, n0, acc1);
  storeRow(m0 + 2u, n0, acc2);
  storeRow(m0 + 3u, n0, acc3);
}
