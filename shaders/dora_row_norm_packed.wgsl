// dora_row_norm_packed.wgsl — norm[o] = ‖W + scale·B·A‖₂ per output row, W a frozen BF16/F16 weight
// packed two per u32 (flat packing, src/ref/packed.ts; shaders/lib/unpack_half.wgsl).
//
// Everything else as dora_row_norm.wgsl: one thread per output row o summing V(o,i)² in order (no
// cross-thread reduction, deterministic); W(o,i) at o·IN + i, or i·OUT + o when CONV1D; grid folded.
// lora_a (R, IN), lora_b (OUT, R), norm (OUT) f32. Writes norm with `=`.
// The body: shaders/lib/dora_row_norm_sum.wgsl (with Dims and CONV1D); this file states the packed W and its read.
override WG: u32 = 64;
override F16: bool = false;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> lora_a: array<f32>;
@group(0) @binding(3) var<storage, read> lora_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> norm: array<f32>;

fn wAt(i: u32) -> f32 { return half_to_f32(w[i >> 1u], (i & 1u) == 1u, F16); }

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  rowNorm((wid.x + wid.y * nwg.x) * WG + lid);
}
