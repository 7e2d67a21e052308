// lora_backward.wgsl — dx[n,i] = Σ_o dy[n,o]·W(o,i) + Σ_r dh[n,r]·A[r,i]   (dx = dy·W + dh·A)
//
// The input gradient of y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ, both paths fused into one pass; dh = s·dy·B (N, R)
// comes from matmul.wgsl before this launch (it also feeds dA += dhᵀ·x). W is frozen: no dW here or
// anywhere. LoRA dropout is not fused: with x_d = dropout(x) feeding A, the A path of dx is
// mask ⊙ (dh·A) / (1 − p), so with dropout active the caller must compute the two paths separately.
// Shapes: dy (N, OUT); W(o,i) is nn.Linear W (OUT, IN) at W[o·IN + i], or GPT-2 Conv1D W (IN, OUT) at
// W[i·OUT + o] when CONV1D; dh (N, R); lora_a (R, IN); dx (N, IN). All row-major f32.
// Threads: as matmul.wgsl — one thread owns a 4×4 block of dx (4 rows n × 4 columns i), a workgroup of
// WG_X×WG_Y threads covers (4·WG_Y)×(4·WG_X); register blocking, no workgroup memory, no barrier;
// out-of-range rows/columns clamped on load, masked on store.
// Caches nothing. Writes dx with `=`, or accumulates `+=` when ACCUMULATE (dx on the residual stream).
override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override CONV1D: bool = false;
override ACCUMULATE: bool = false;

struct Dims { N: u32, IN: u32, OUT: u32, R: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
@group(0) @binding(4) var<storage, read> lora_a: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

/** W(o, i) for the four columns i0..i3 (already clamped to IN − 1). */
fn loadW(o: u32, i: vec4<u32>) -> vec4<f32> {
  if (CONV1D) {
    return vec4<f32>(w[i.x * dims.OUT + o], w[i.y * dims.OUT + o], w[i.z * dims.OUT + o], w[i.w * dims.OUT + o]);
  }
  let row = o * dims.IN;
  return vec4<f32>(w[row + i.x], w[row + i.y], w[row + i.z], w[row + i.w]);
}

fn loadA(r: u32, i: vec4<u32>) -> vec4<f32> {
  let row = r * dims.IN;
  return vec4<f32>(lora_a[row + i.x], lora_a[row + i.y], lora_a[row + i.z], lora_a[row + i.w]);
}

fn storeRow(n: u32, i0: u32, v: vec4<f32>) {
  if (n >= dims.N) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (i0 + j < dims.IN) {
      let at = n * dims.IN + i0 + j;
      if (ACCUMULATE) { dx[at] += v[j]; } else { dx[at] = v[j]; }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.y * 4u;
  let i0 = gid.x * 4u;
  if (n0 >= dims.N || i0 >= dims.IN) { return; }
  let last = dims.IN - 1u;
  let i = vec4<u32>(i0, min(i0 + 1u, last), min(i0 + 2u, last), min(i0 + 3u, last));
  let n = vec4<u32>(n0, min(n0 + 1u, dims.N - 1u), min(n0 + 2u, dims.N - 1u), min(n0 + 3u, dims.N - 1u));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var o = 0u; o < dims.OUT; o++) {
    let wv = loadW(o, i);
    acc0 += dy[n.x * dims.OUT + o] * wv;
    acc1 += dy[n.y * dims.OUT + o] * wv;
    acc2 += dy[n.z * dims.OUT + o] * wv;
    acc3 += dy[n.w * dims.OUT + o] * wv;
  }
  for (var r = 0u; r < dims.R; r++) {
    let av = loadA(r, i);
    acc0 += dh[n.x * dims.R + r] * av;
    acc1 += dh[n.y * dims.R + r] * av;
    acc2 += dh[n.z * dims.R + r] * av;
    acc3 += dh[n.w * dims.R + r] * av;
  }
  storeRow(n0, i0, acc0);
  storeRow(n0 + 1u, i0, acc1);
  storeRow(n0 + 2u, i0, acc2);
  storeRow(n0 + 3u, i0, acc3);
}
