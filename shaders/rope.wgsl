// rope.wgsl — rotary position embedding in HF's rotate-half layout (Llama, Mistral, Qwen2/3), in place,
// forward or (INVERSE) backward:
//   forward:  x'[j] = x[j]·cos − x[j + HS/2]·sin,     x'[j + HS/2] = x[j + HS/2]·cos + x[j]·sin
//             (= x·cos + rotate_half(x)·sin with rotate_half(x) = [−x[HS/2:], x[:HS/2]])
//   INVERSE:  the transpose rotation (sin → −sin), which maps dL/dx' to dL/dx.
// with cos = cos[p, j], sin = sin[p, j] at position p = pos0 + t, j < HS/2 (pairs (j, j + HS/2), not
// interleaved). pos0 is 0 for a whole sequence and the cache length for a KV-cached decode step.
//
// Shapes: x (B, T, NH, HS) row-major — q with NH heads or k with NKV heads; cos, sin (P, HS/2), rows
// p < P, built on the CPU from rope_theta and rope_scaling (src/ref/rope_freq.ts); pos0 + T ≤ P.
// Threads: one thread per pair, i = (wid.x + wid.y·nwg.x)·WG + lid over B·T·NH·HS/2, folded into
// (x, y) above 65535 workgroups, masked by `i < n`. The pair's two elements are read and written by
// that thread only, so the in-place update has no race.
// Caches nothing (the backward needs only the tables). Writes x with `=` (in place).
override WG: u32 = 256;
override INVERSE: bool = false;

struct Dims { n: u32, T: u32, NH: u32, HS: u32, pos0: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> cosTable: array<f32>;
@group(0) @binding(2) var<storage, read> sinTable: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let half = dims.HS / 2u;
  let j = i % half;
  let row = i / half; // (b·T + t)·NH + h
  let t = (row / dims.NH) % dims.T;
  let tab = (dims.pos0 + t) * half + j;
  let c = cosTable[tab];
  let s = select(sinTable[tab], -sinTable[tab], INVERSE);
  let o = row * dims.HS + j;
  let x1 = x[o];
  let x2 = x[o + half];
  x[o] = x1 * c - x2 * s;
  x[o + half] = x2 * c + x1 * s;
}
