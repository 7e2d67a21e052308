// embedding_forward_packed.wgsl — out[b,t,:] = wte[ids[b,t], :] + wpe[t, :] with wte a frozen BF16/F16
// table packed two per u32 (flat packing, src/ref/packed.ts; shaders/lib/unpack_half.wgsl).
//
// Everything else as embedding_forward.wgsl: one thread per output element, grid folded (fold2d),
// ids clamped to V − 1 (the host validates them), vocabulary chunks by (v0, rows) with each chunk packed
// from its own first element, wpe (maxT, C) f32. Writes out with `=`.
override WG: u32 = 64;
override F16: bool = false;

struct Dims { B: u32, T: u32, C: u32, V: u32, v0: u32, rows: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<u32>;
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
  if (v < dims.v0 || v - dims.v0 >= dims.rows) { return; } // another chunk's row
  let i = (v - dims.v0) * dims.C + c;
  out[idx] = half_to_f32(wte[i >> 1u], (i & 1u) == 1u, F16) + wpe[t * dims.C + c];
}
