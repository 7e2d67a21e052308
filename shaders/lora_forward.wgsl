// lora_forward.wgsl — y[n,o] = Σ_i x[n,i]·W(o,i) + bias[o] + scale · Σ_r h[n,r]·B[o,r]
//
// The frozen base product and the rank-R LoRA product fused into one pass (docs/method.md#lora): with h =
// x·Aᵀ already computed (matmul.wgsl, TRANS_B; cached for the backward), the LoRA term costs R extra
// multiply-adds per output instead of a second launch that would re-read and re-write y.
// Shapes: x (N, IN); W(o,i) is nn.Linear W (OUT, IN) at W[o·IN + i], or GPT-2 Conv1D W (IN, OUT) at
// W[i·OUT + o] when CONV1D (layout handled on load, never transposed in memory); bias (OUT);
// h (N, R); lora_b (OUT, R); y (N, OUT). All row-major f32.
// Threads: as matmul.wgsl — one thread owns a 4×4 block of y (4 rows n × 4 columns o), a workgroup of
// WG_X×WG_Y threads covers (4·WG_Y)×(4·WG_X); each i step loads 4 x and 4 W values for 16 multiply-adds,
// no workgroup memory and no barrier. Out-of-range rows/columns are clamped on load and masked on store.
// With DoRA the caller leaves HAS_BIAS off and gets z = x·Wᵀ + s·h·Bᵀ (dora_scale.wgsl adds the bias).
// Caches nothing itself. Writes y with `=`.
override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override CONV1D: bool = false;
override HAS_BIAS: bool = false;

struct Dims { N: u32, IN: u32, OUT: u32, R: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> h: array<f32>;
@group(0) @binding(5) var<storage, read> lora_b: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

/** W(o, i) for the four columns o0..o3 (already clamped to OUT − 1). */
fn loadW(i: u32, o: vec4<u32>) -> vec4<f32> {
  if (CONV1D) {
    let row = i * dims.OUT;
    return vec4<f32>(w[row + o.x], w[row + o.y], w[row + o.z], w[row + o.w]);
  }
  return vec4<f32>(w[o.x * dims.IN + i], w[o.y * dims.IN + i], w[o.z * dims.IN + i], w[o.w * dims.IN + i]);
}

fn loadB(r: u32, o: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(lora_b[o.x * dims.R + r], lora_b[o.y * dims.R + r], lora_b[o.z * dims.R + r], lora_b[o.w * dims.R + r]);
}

fn storeRow(n: u32, o0: u32, o: vec4<u32>, base: vec4<f32>, low: vec4<f32>) {
  if (n >= dims.N) { return; }
  var v = base + dims.scale * low;
  if (HAS_BIAS) { v += vec4<f32>(bias[o.x], bias[o.y], bias[o.z], bias[o.w]); }
  for (var j = 0u; j < 4u; j++) {
    if (o0 + j < dims.OUT) { y[n * dims.OUT + o0 + j] = v[j]; }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.y * 4u;
  let o0 = gid.x * 4u;
  if (n0 >= dims.N || o0 >= dims.OUT) { return; }
  let last = dims.OUT - 1u;
  let o = vec4<u32>(o0, min(o0 + 1u, last), min(o0 + 2u, last), min(o0 + 3u, last));
  let n = vec4<u32>(n0, min(n0 + 1u, dims.N - 1u), min(n0 + 2u, dims.N - 1u), min(n0 + 3u, dims.N - 1u));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var i = 0u; i < dims.IN; i++) {
    let wv = loadW(i, o);
    acc0 += x[n.x * dims.IN + i] * wv;
    acc1 += x[n.y * dims.IN + i] * wv;
    acc2 += x[n.z * dims.IN + i] * wv;
    acc3 += x[n.w * dims.IN + i] * wv;
  }
  var low0 = vec4<f32>(0.0);
  var low1 = vec4<f32>(0.0);
  var low2 = vec4<f32>(0.0);
  var low3 = vec4<f32>(0.0);
  for (var r = 0u; r < dims.R; r++) {
    let bv = loadB(r, o);
    low0 += h[n.x * dims.R + r] * bv;
    low1 += h[n.y * dims.R + r] * bv;
    low2 += h[n.z * dims.R + r] * bv;
    low3 += h[n.w * dims.R + r] * bv;
  }
  storeRow(n0, o0, o, acc0, low0);
  storeRow(n0 + 1u, o0, o, acc1, low1);
  storeRow(n0 + 2u, o0, o, acc2, low2);
  storeRow(n0 + 3u, o0, o, acc3, low3);
}
