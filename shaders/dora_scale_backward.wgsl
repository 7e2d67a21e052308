// dora_scale_backward.wgsl — backward of y = (m/norm) ⊙ z + bias with norm detached (DoRA §4.3):
//   dz[n,o] = dy[n,o] · m[o] / norm[o] ;   dm[o] += Σ_n dy[n,o] · z[n,o] / norm[o]
//
// dz then flows into the LoRA backward (dA, dB, dx through the numerator only, as the paper prescribes);
// bias and W are frozen and get nothing.
// Shapes: dy, z, dz (N, OUT) row-major; m, norm, dm (OUT). All f32.
// Threads: one thread per output column o: it owns dm[o] and walks n = 0..N−1 in order, so the sum is
// deterministic without float atomics; neighbouring threads touch neighbouring o of one row (coalesced).
// Grid folded (fold2d): flat workgroup = wid.x + wid.y·nwg.x.
// Reads z and norm cached by the forward. Writes dz with `=`; accumulates dm with `+=` (parameter grad).
override WG: u32 = 64;

struct Dims { N: u32, OUT: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> norm: array<f32>;
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;
@group(0) @binding(6) var<storage, read_write> dm: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = (wid.x + wid.y * nwg.x) * WG + lid;
  if (o >= dims.OUT) { return; }
  let ratio = m[o] / norm[o];
  var acc = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    let at = n * dims.OUT + o;
    dz[at] = dy[at] * ratio;
    acc += dy[at] * z[at];
  }
  dm[o] += acc / norm[o];
}
