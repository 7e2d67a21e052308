// embedding_forward.wgsl — out[b,t,:] = wte[ids[b,t], :] + wpe[t, :]   (GPT-2 token + position embedding)
//
// Shapes: ids (B, T) u32; wte (V, C) and wpe (maxT, C) row-major f32 with T ≤ maxT (host-checked);
// out (B, T, C) row-major f32.
// Threads: one thread per output element, flat index = (b·T + t)·C + c, so neighbouring threads read
// neighbouring channels of one wte row. The workgroup grid is folded into (x, y) when B·T·C / WG exceeds
// 65535 (fold2d): flat workgroup = wid.x + wid.y · nwg.x.
// Out-of-range ids: the host validates ids before upload (validateIds); should one slip through it is
// clamped to V − 1 here, so the kernel never reads outside wte (a wrong row, never a fault).
// Vocabulary chunks: when wte is stored split in row chunks (src/kernels/vocab_split.ts), one launch per
// chunk binds rows [v0, v0 + rows) as `wte` and writes only the positions whose id falls in them; every
// position is written by exactly one chunk, with the same sum, so the result is bit-identical to the
// whole-table launch (v0 = 0, rows = V).
// Caches nothing (the backward needs only ids). Writes out with `=`.
// The body: shaders/lib/embedding_gather.wgsl (with Dims); this file states the F32 table and its read.
override WG: u32 = 64;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn wteAt(i: u32) -> f32 { return wte[i]; }

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  embedElement((wid.x + wid.y * nwg.x) * WG + lid);
}
