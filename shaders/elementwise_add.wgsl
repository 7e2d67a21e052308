// elementwise_add.wgsl — out = a + b; with IN_PLACE, out += b (out is the left operand).
//
// Shapes: a, b, out are flat f32 arrays of n elements (any layout, the same for all three).
// Threads: one thread per element, WG per workgroup. Above 65535 workgroups the host folds the count
// into (x, y) (kernel.ts fold2d), so the flat index is (wid.x + wid.y·nwg.x)·WG + lid and the
// overshoot of the last row of workgroups is masked by `i < n`.
// IN_PLACE exists because a dispatch may not bind one buffer both read-only and read-write: `a` is
// then never read and the host binds `b` in its place. Caches nothing.
// Writes out with `=`; with IN_PLACE it accumulates `+=` (e.g. the residual stream x += f(x)).
override WG: u32 = 256;
override IN_PLACE: bool = false;

struct Dims { n: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= dims.n) { return; }
  if (IN_PLACE) {
    out[i] += b[i];
  } else {
    out[i] = a[i] + b[i];
  }
}
