// attention_backward_qkv.wgsl — second half of the attention backward: dqkv from dpreatt and att.
//   dq[b, t, h, d] = scale · Σ_s  dpreatt[b, h, t, s] · k[b, s, h, d]
//   dk[b, s, h, d] = scale · Σ_t  dpreatt[b, h, t, s] · q[b, t, h, d]
//   dv[b, s, h, d] =         Σ_t  att[b, h, t, s]     · dout[b, t, h, d]
// with scale = 1/√HS and, when CAUSAL, only the pairs s ≤ t (the others are 0 in att and dpreatt).
// Shapes: dout (B, T, C); qkv, dqkv (B, T, 3C) packed as GPT-2's c_attn (Q | K | V, head h the
// slice [h·HS, (h+1)·HS) of each third); att, dpreatt (B, NH, T, T).
// Threads: one thread owns each element of dqkv and sums over the sequence itself, so no two
// threads write one element (WGSL has no float atomics) and the result is deterministic.
// WG threads per workgroup, folded over (x, y) when more than 65535: i = (wid.x + wid.y · nwg.x) · WG + lid.
// Writes dqkv with `=` (an activation gradient; the caller adds it into the residual path).
override WG: u32 = 64;
override CAUSAL: bool = true;

struct Dims { B: u32, T: u32, C: u32, NH: u32, HS: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> att: array<f32>;
@group(0) @binding(4) var<storage, read> dpreatt: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let T = dims.T;
  let C = dims.C;
  let C3 = 3u * C;
  if (i >= dims.B * T * C3) { return; }
  let j = i % C3;
  let bt = i / C3;
  let t = bt % T; // this element's own position: the query for dq, the key for dk and dv
  let b = bt / T;
  let part = j / C; // 0: Q, 1: K, 2: V
  let c = j - part * C;
  let h = c / dims.HS;
  let rows = (b * dims.NH + h) * T; // att row index of (b, h, 0)
  var acc = 0.0;
  if (part == 0u) {
    let sEnd = select(T, t + 1u, CAUSAL);
    for (var s = 0u; s < sEnd; s++) {
      acc += dpreatt[(rows + t) * T + s] * qkv[(b * T + s) * C3 + C + c];
    }
    acc *= dims.scale;
  } else if (part == 1u) {
    for (var q = select(0u, t, CAUSAL); q < T; q++) {
      acc += dpreatt[(rows + q) * T + t] * qkv[(b * T + q) * C3 + c];
    }
    acc *= dims.scale;
  } else {
    for (var q = select(0u, t, CAUSAL); q < T; q++) {
      acc += att[(rows + q) * T + t] * dout[(b * T + q) * C + c];
    }
  }
  dqkv[i] = acc;
}
