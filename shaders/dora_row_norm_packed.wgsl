// dora_row_norm_packed.wgsl — norm[o] = ‖W + scale·B·A‖₂ per output row, W a frozen BF16/F16 weight
// packed two per u32 (flat packing, src/ref/packed.ts; shaders/lib/unpack_half.wgsl).
//
// Everything else as dora_row_norm.wgsl: one thread per output row o summing V(o,i)² in order (no
// cross-thread reduction, deterministic); W(o,i) at o·IN + i, or i·OUT + o when CONV1D; grid folded.
// lora_a (R, IN), lora_b (OUT, R), norm (OUT) f32. Writes norm with `=`.
override WG: u32 = 64;
override CONV1D: bool = false;
override F16: bool = false;

struct Dims { IN: u32, OUT: u32, R: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> lora_a: array<f32>;
@group(0) @binding(3) var<storage, read> lora_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> norm: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = (wid.x + wid.y * nwg.x) * WG + lid;
  if (o >= dims.OUT) { return; }
  var sum = 0.0;
  for (var i = 0u; i < dims.IN; i++) {
    var ba = 0.0;
    for (var r = 0u; r < dims.R; r++) { ba += lora_b[o * dims.R + r] * lora_a[r * dims.IN + i]; }
    let at = select(o * dims.IN + i, i * dims.OUT + o, CONV1D);
    let v = half_to_f32(w[at >> 1u], (at & 1u) == 1u, F16) + dims.scale * ba;
    sum += v * v;
  }
  norm[o] = sqrt(sum);
}
