// dora_merge.wgsl — W ← (m/norm)[o] · (W + s·B·A) in [out, in] terms; UNMERGE: W ← W / (m/norm)[o] − s·B·A
//
// DoRA merge (METHOD.md "DoRA"; INTEROP.md §5.2): V = W + s·B·A, W' = (m/norm)[:, None] ⊙ V, in f32.
// norm must be ‖V[o,:]‖ of the W being merged (dora_row_norm.wgsl, launched just before); unmerge needs
// the norm cached at merge time and divides by the same f32 ratio m/norm, so V is recovered to rounding.
// nn.Linear W (OUT, IN) at W[o·IN + i]; GPT-2 Conv1D W (IN, OUT) at W[i·OUT + o] when CONV1D — there the
// scale runs along the out axis, i.e. across each stored row (never a transpose in memory).
// Shapes: w as above; lora_a (R, IN); lora_b (OUT, R); m, norm (OUT). All f32.
// Threads: one thread per element of W in storage order, one writer per element. Grid folded (fold2d):
// flat workgroup = wid.x + wid.y·nwg.x.
// Caches nothing. Rewrites W in place (`=` of a function of the old value).
override WG: u32 = 64;
override CONV1D: bool = false;
override UNMERGE: bool = false;

struct Dims { IN: u32, OUT: u32, R: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> lora_a: array<f32>;
@group(0) @binding(2) var<storage, read> lora_b: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> norm: array<f32>;
@group(0) @binding(5) var<storage, read_write> w: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= dims.IN * dims.OUT) { return; }
  var o = idx / dims.IN;
  var i = idx % dims.IN;
  if (CONV1D) {
    i = idx / dims.OUT;
    o = idx % dims.OUT;
  }
  var ba = 0.0;
  for (var r = 0u; r < dims.R; r++) { ba += lora_b[o * dims.R + r] * lora_a[r * dims.IN + i]; }
  let ratio = m[o] / norm[o];
  if (UNMERGE) {
    w[idx] = w[idx] / ratio - dims.scale * ba;
  } else {
    w[idx] = ratio * (w[idx] + dims.scale * ba);
  }
}
