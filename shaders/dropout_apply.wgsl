// dropout_apply.wgsl — out[i] = x[i] · keep(u[i])  (or out[i] += … with ACCUMULATE),
//   keep(u) = scale if u ≥ p else 0,  scale = 1 / (1 − p)   (inverted dropout, as torch.nn.functional.dropout)
//
// u holds uniforms in [0, 1) from rng_uniform.wgsl (Philox, counter-based), so the same mask is
// regenerated in the backward from the same stream instead of being stored. Forward: out = dropout(x).
// Backward: out = dx (ACCUMULATE), x = the upstream gradient of the dropped tensor: dx += keep ⊙ g.
// Shapes: x, u, out flat f32 arrays of n elements. p ∈ [0, 1), scale in the uniform (computed on the host).
// Threads: one thread per element, WG per workgroup, grid folded (fold2d): flat index
// (wid.x + wid.y·nwg.x)·WG + lid, masked by i < n. Caches nothing. Writes out with `=` or `+=`.
override WG: u32 = 256;
override ACCUMULATE: bool = false;

struct Dims { n: u32, p: f32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> u: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  let v = select(0.0, x[i] * dims.scale, u[i] >= dims.p);
  if (ACCUMULATE) {
    out[i] = out[i] + v;
  } else {
    out[i] = v;
  }
}
