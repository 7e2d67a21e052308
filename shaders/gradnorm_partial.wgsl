// gradnorm_partial.wgsl — partials[partialOffset + w] = Σ x[xOffset + i]² over chunk w of a flat
// tensor, the first pass of the global gradient norm ‖g‖₂ = √(Σ_tensors Σ_i g_i²) that
// torch.nn.utils.clip_grad_norm_ (and the HF Trainer's max_grad_norm) clips by.
//
// Shapes: x is flat f32, elements [xOffset, xOffset + n); chunk w covers elements
// [w·CHUNK, (w + 1)·CHUNK) with CHUNK = WG · PER_THREAD; partials is flat f32 and this dispatch owns
// partials[partialOffset .. partialOffset + ⌈n/CHUNK⌉). The host runs it once per tensor with
// disjoint partial ranges, then gradnorm_finalize.wgsl sums every partial.
// Threads: one workgroup per chunk (the grid may be folded into (x, y) above 65535 workgroups; the flat
// workgroup index is wid.x + wid.y · nwg.x). Thread l sums elements l, l + WG, … of its chunk (in a
// fixed order), then a tree reduction in workgroup memory; no atomics, so the result is deterministic.
// WG must be a power of two. Caches nothing; writes partials with `=`.
override WG: u32 = 256;
override PER_THREAD: u32 = 4;

struct Dims { n: u32, xOffset: u32, partialOffset: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  let start = w * WG * PER_THREAD;
  var acc = 0.0;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = start + k * WG + lid;
    if (i < dims.n) {
      let g = x[dims.xOffset + i];
      acc += g * g;
    }
  }
  scratch[lid] = acc;
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { scratch[lid] += scratch[lid + stride]; }
  }
  // Folded grids round up: workgroups past the last chunk write nothing.
  if (lid == 0u && start < dims.n) { partials[dims.partialOffset + w] = scratch[0]; }
}
