// dora_row_norm_sum.wgsl — the body of dora_row_norm.wgsl (F32 W) and dora_row_norm_packed.wgsl (BF16/F16
// W), which differ only in how one element of W is read: norm[o] = ‖W[o,:] + scale·(B·A)[o,:]‖₂, summed
// over i in order by the one thread that owns row o.
// Not an entry point: both descriptors append it with `withLib` (src/gpu/kernel.ts). The including shader
// declares the bindings dims (Dims below), w, lora_a, lora_b, norm and `fn wAt(i: u32) -> f32`, element i
// of the stored W.
override CONV1D: bool = false;

struct Dims { IN: u32, OUT: u32, R: u32, scale: f32 }

// Row o of V = W + scale·B·A; W(o, i) stored at o·IN + i (nn.Linear), or i·OUT + o (Conv1D).
fn rowNorm(o: u32) {
  if (o >= dims.OUT) { return; }
  var sum = 0.0;
  for (var i = 0u; i < dims.IN; i++) {
    var ba = 0.0;
    for (var r = 0u; r < dims.R; r++) { ba += lora_b[o * dims.R + r] * lora_a[r * dims.IN + i]; }
    let v = wAt(select(o * dims.IN + i, i * dims.OUT + o, CONV1D)) + dims.scale * ba;
    sum += v * v;
  }
  norm[o] = sqrt(sum);
}
