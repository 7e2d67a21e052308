// embedding_forward.wgsl — out[b,t,:] = wte[ids[b,t], :] + wpe[t, :]   (GPT-2 token + position embedding)
//
// Shapes: ids (B, T) u32; wte (V, C) and wpe (maxT, C) row-major f32 with T ≤ maxT (host-checked);
// out (B, T, C) row-major f32.
// Threads: one thread per output element, flat index = (b·T + t)·C + c, so neighbouring threads read
// neighbouring channels of one wte row. The workgroup grid is folded into (x, y) when B·T·C / WG exceeds
// 65535 (fold2d): flat workgroup = wid.x + wid.y · nwg.x.
// Out-of-range ids: the host validates ids before upload (validateIds); should one slip through it is
// clamped to V − 1 here, so the kernel never reads outside wte (a wrong row, never a fault).
// Caches nothing (the backward needs only ids). Writes out with `=`.
override WG: u32 = 64;

struct Dims { B: u32, T: u32, C: u32, V: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= dims.B * dims.T * dims.C) { return; }
  let bt = idx / dims.C;
  let c = idx % dims.C;
  let t = bt % dims.T;
  let v = min(ids[bt], dims.V - 1u);
  out[idx] = wte[v * dims.C + c] + wpe[t * dims.C + c];
}
