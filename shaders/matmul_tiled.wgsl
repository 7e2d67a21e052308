// matmul_tiled.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), workgroup-shared tiles.
//
// Same contract as matmul.wgsl (shapes, TRANS_A/TRANS_B storage, batch strides, alpha/beta, bias), for
// operands whose contiguous dimension is a multiple of 4 (the host's fitsVec4), as the vec4 kernels.
// The classic GPU layout (the one the register-blocked kernels avoid because barriers are slow on
// SwiftShader): a 16×16 workgroup computes a 64×64 tile of C. Per step of TK = 16 along k, each thread
// loads one vec4 of op(A)'s 64×16 tile and one of op(B)'s 16×64 tile into workgroup memory (stored
// k-major, so the inner loop reads one vec4 of 4 rows of A and one of 4 columns of B), a barrier, then
// 16 rank-1 updates of its 4×4 register micro-tile: each loaded value is reused 64 times from fast
// memory instead of 4 (vec4 4×4) from global memory. Loads past M, N or K read zeros; stores are masked.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;

const TK = 16u;       // k per tile
const TILE = 64u;     // rows (m) and columns (n) of C per workgroup
const T4 = 16u;       // TILE / 4: vec4s across a tile row

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

// storeRow (alpha, bias, beta; masked past M and N): shaders/lib/matmul_store.wgsl (appended by the descriptor).

// tileA[k][m/4]: four rows m of op(A) at one k; tileB[k][n/4]: four columns n of op(B) at one k.
var<workgroup> tileA: array<vec4<f32>, 256>;  // TK × T4
var<workgroup> tileB: array<vec4<f32>, 256>;  // TK × T4

// Thread t (0..255) brings one vec4 of op(A)'s tile rows m0..m0+63, columns k0..k0+15.
fn loadTileA(base4: u32, m0: u32, k0: u32, t: u32) {
  if (TRANS_A) {
    // Stored (K, M): a vec4 runs along m; it lands whole in tileA[k][m/4].
    let k = k0 + t / T4;
    let m = m0 + (t % T4) * 4u;
    var v = vec4<f32>(0.0);
    if (k < dims.K && m < dims.M) { v = a[base4 + (k * dims.M + m) / 4u]; }
    tileA[t] = v;
  } else {
    // Stored (M, K): a vec4 runs along k; its four values go to four k rows of the tile.
    let m = t / 4u;
    let kq = (t % 4u) * 4u;
    var v = vec4<f32>(0.0);
    if (m0 + m < dims.M && k0 + kq < dims.K) { v = a[base4 + ((m0 + m) * dims.K + k0 + kq) / 4u]; }
    for (var j = 0u; j < 4u; j++) { tileA[(kq + j) * T4 + m / 4u][m % 4u] = v[j]; }
  }
}

// Thread t brings one vec4 of op(B)'s tile rows k0..k0+15, columns n0..n0+63.
fn loadTileB(base4: u32, k0: u32, n0: u32, t: u32) {
  if (TRANS_B) {
    // Stored (N, K): a vec4 runs along k; its four values go to four k rows of the tile.
    let n = t / 4u;
    let kq = (t % 4u) * 4u;
    var v = vec4<f32>(0.0);
    if (n0 + n < dims.N && k0 + kq < dims.K) { v = b[base4 + ((n0 + n) * dims.K + k0 + kq) / 4u]; }
    for (var j = 0u; j < 4u; j++) { tileB[(kq + j) * T4 + n / 4u][n % 4u] = v[j]; }
  } else {
    // Stored (K, N): a vec4 runs along n; it lands whole in tileB[k][n/4].
    let k = k0 + t / T4;
    let n = n0 + (t % T4) * 4u;
    var v = vec4<f32>(0.0);
    if (k < dims.K && n < dims.N) { v = b[base4 + (k * dims.N + n) / 4u]; }
    tileB[t] = v;
  }
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  // No early return: every thread takes part in every barrier (edge tiles load zeros instead).
  let m0 = wg.y * TILE;
  let n0 = wg.x * TILE;
  let z = wg.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < dims.K; k0 += TK) {
    loadTileA(baseA, m0, k0, t);
    loadTileB(baseB, k0, n0, t);
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let av = tileA[k * T4 + lid.y];  // rows 4·lid.y .. +3 of the tile
      let bv = tileB[k * T4 + lid.x];  // columns 4·lid.x .. +3
      acc[0] += av[0] * bv;
      acc[1] += av[1] * bv;
      acc[2] += av[2] * bv;
      acc[3] += av[3] * bv;
    }
    workgroupBarrier();
  }
  let baseC = z * dims.strideC;
  let m = m0 + lid.y * 4u;
  let n = n0 + lid.x * 4u;
  if (n >= dims.N) { return; }
  storeRow(baseC, m, n, acc[0]);
  storeRow(baseC, m + 1u, n, acc[1]);
  storeRow(baseC, m + 2u, n, acc[2]);
  storeRow(baseC, m + 3u, n, acc[3]);
}
