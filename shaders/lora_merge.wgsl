// lora_merge.wgsl — W ← W + c · B·A in [out, in] terms: W(o,i) += c · Σ_r B[o,r]·A[r,i]
//
// Merge (c = s = lora_alpha/R, or α·s for a LoRASC step, METHOD.md) and unmerge (c = −s) of a LoRA into
// its frozen base weight, always in f32 (INTEROP.md §6: in bf16/f16 small deltas vanish). nn.Linear W
// (OUT, IN) gets W[o·IN + i] += c·(B·A)[o,i]; GPT-2 Conv1D W (IN, OUT) when CONV1D gets
// W[i·OUT + o] += c·(B·A)[o,i], i.e. W += c·(B·A)ᵀ — the transpose is in the indexing, not in memory.
// Shapes: w as above; lora_a (R, IN); lora_b (OUT, R). All f32.
// Threads: one thread per element of W in storage order (coalesced read-modify-write), so each element
// has one writer. The delta is computed in the same order on merge and unmerge, so unmerge(merge(W))
// differs from W only by the rounding of the two adds. Grid folded (fold2d): flat workgroup =
// wid.x + wid.y·nwg.x.
// Caches nothing. Accumulates into W in place (`+=`).
override WG: u32 = 64;
override CONV1D: bool = false;

struct Dims { IN: u32, OUT: u32, R: u32, c: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> lora_a: array<f32>;
@group(0) @binding(2) var<storage, read> lora_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;

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
  w[idx] += dims.c * ba;
}
