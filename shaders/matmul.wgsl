// matmul.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n])
//
// Shapes: op(A) (M, K), op(B) (K, N), C (M, N), all row-major f32. A is stored (M, K), or (K, M) when
// TRANS_A; B is stored (K, N), or (N, K) when TRANS_B (so x·Wᵀ for an nn.Linear W (out, in) is
// TRANS_B, and x·W for a GPT-2 Conv1D W (in, out) is not). Batch z strides by strideA/B/C elements;
// a stride of 0 broadcasts one matrix to every batch.
// Threads: one thread owns a 4×4 block of C, a workgroup WG_X×WG_Y threads covers (4·WG_Y)×(4·WG_X).
// Register blocking without workgroup memory: each k step loads 4 values of A and 4 of B and does
// 16 multiply-adds, and no barrier is needed (barriers are very slow on SwiftShader). Out-of-range
// rows/cols are clamped on load (so every read is in bounds) and masked on store.
// Writes C with `=` when beta is 0 (C is then never read), else accumulates beta · C.
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
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn loadA(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[base + k * dims.M + m]; }
  return a[base + m * dims.K + k];
}

fn loadB(base: u32, k: u32, n: u32) -> vec4<f32> {
  let n1 = min(n + 1u, dims.N - 1u);
  let n2 = min(n + 2u, dims.N - 1u);
  let n3 = min(n + 3u, dims.N - 1u);
  if (TRANS_B) {
    return vec4<f32>(b[base + n * dims.K + k], b[base + n1 * dims.K + k],
                     b[base + n2 * dims.K + k], b[base + n3 * dims.K + k]);
  }
  let row = base + k * dims.N;
  return vec4<f32>(b[row + n], b[row + n1], b[row + n2], b[row + n3]);
}

fn storeRow(base: u32, m: u32, n: u32, v: vec4<f32>) {
  if (m >= dims.M) { return; }
  var bv = vec4<f32>(0.0);
  if (HAS_BIAS) {
    bv = vec4<f32>(bias[n], bias[min(n + 1u, dims.N - 1u)],
                   bias[min(n + 2u, dims.N - 1u)], bias[min(n + 3u, dims.N - 1u)]);
  }
  let row = base + m * dims.N;
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
  let z = gid.z;
  let baseA = z * dims.strideA;
  let baseB = z * dims.strideB;
  let m1 = min(m0 + 1u, dims.M - 1u);
  let m2 = min(m0 + 2u, dims.M - 1u);
  let m3 = min(m0 + 3u, dims.M - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < dims.K; k++) {
    let bv = loadB(baseB, k, n0);
    acc0 += loadA(baseA, m0, k) * bv;
    acc1 += loadA(baseA, m1, k) * bv;
    acc2 += loadA(baseA, m2, k) * bv;
    acc3 += loadA(baseA, m3, k) * bv;
  }
  let baseC = z * dims.strideC;
  storeRow(baseC, m0, n0, acc0);
  storeRow(baseC, m0 + 1u, n0, acc1);
  storeRow(baseC, m0 + 2u, n0, acc2);
  storeRow(baseC, m0 + 3u, n0, acc3);
}
