// dora_row_norm.wgsl — norm[o] = ‖V[o,:]‖₂ with V = W + scale·B·A in [out, in] terms (docs/method.md#dora)
//
// V(o,i) = W(o,i) + scale · Σ_r B[o,r]·A[r,i]. W(o,i) is nn.Linear W (OUT, IN) at W[o·IN + i], or GPT-2
// Conv1D W (IN, OUT) at W[i·OUT + o] when CONV1D — for Conv1D, row o of V is column o of the stored W
// plus scale·(B·A)[o,:] (docs/method.md#notation: work in [out, in], never transpose in memory).
// Shapes: w as above; lora_a (R, IN); lora_b (OUT, R); norm (OUT). All f32.
// Threads: one thread per output row o (it owns norm[o]), summing V(o,i)² over i in order — no
// reduction across threads, so no barrier and a deterministic result. Work OUT·IN·(R+1), once per
// step per adapted layer; with Conv1D neighbouring threads read neighbouring W elements. Grid folded
// (fold2d): flat workgroup = wid.x + wid.y·nwg.x.
// The norm is treated as a constant in the backward (detached, DoRA §4.3); the forward caches it for
// dora_scale_backward.wgsl. Writes norm with `=`.
// The body: shaders/lib/dora_row_norm_sum.wgsl (with Dims and CONV1D); this file states the F32 W and its read.
override WG: u32 = 64;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> lora_a: array<f32>;
@group(0) @binding(3) var<storage, read> lora_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> norm: array<f32>;

fn wAt(i: u32) -> f32 { return w[i]; }

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  rowNorm((wid.x + wid.y * nwg.x) * WG + lid);
}
