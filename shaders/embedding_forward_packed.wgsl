// embedding_forward_packed.wgsl — out[b,t,:] = wte[ids[b,t], :] + wpe[t, :] with wte a frozen BF16/F16
// table packed two per u32 (flat packing, src/ref/packed.ts; shaders/lib/unpack_half.wgsl).
//
// Everything else as embedding_forward.wgsl: one thread per output element, grid folded (fold2d),
// ids clamped to V − 1 (the host validates them), vocabulary chunks by (v0, rows) with each chunk packed
// from its own first element, wpe (maxT, C) f32. Writes out with `=`.
// The body: shaders/lib/embedding_gather.wgsl (with Dims); this file states the packed table and its read.
override WG: u32 = 64;
override F16: bool = false;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<u32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn wteAt(i: u32) -> f32 { return half_to_f32(wte[i >> 1u], (i & 1u) == 1u, F16); }

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  embedElement((wid.x + wid.y * nwg.x) * WG + lid);
}
