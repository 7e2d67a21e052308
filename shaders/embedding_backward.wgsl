// embedding_backward.wgsl — dwte[v,:] += Σ_{(b,t): ids[b,t]=v} dout[b,t,:] ;  dwpe[t,:] += Σ_b dout[b,t,:]
//
// Shapes: ids (B, T) u32; dout (B, T, C); dwte (V, C); dwpe (maxT, C) (rows ≥ T untouched); all f32
// row-major.
// Threads: one thread per channel c. Thread c owns column c of both dwte and dwpe, so every output
// element has exactly one writer and no float atomics are needed (WGSL has none); it walks the B·T
// positions in a fixed order (t outer, b inner), so the result is bitwise deterministic. Neighbouring
// threads touch neighbouring channels of the same row, so each read and read-modify-write is coalesced.
// Why not one thread per (v, c): every thread would scan all B·T ids, V·C·B·T work (≈ 3·10¹¹ for GPT-2 at
// B·T = 8192) against B·T·C here. The price is only C-way parallelism (768 threads for GPT-2), which is
// acceptable because wte/wpe are frozen under LoRA: this kernel runs only when embeddings train (full
// fine-tuning, modules_to_save). Ids are clamped to V − 1 as in the forward (host validates them).
// Caches nothing. Accumulates dwte and dwpe with `+=` (parameter gradients; also the tied LM head adds
// into dwte).
override WG: u32 = 64;

struct Dims { B: u32, T: u32, C: u32, V: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(4) var<storage, read_write> dwpe: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = (wid.x + wid.y * nwg.x) * WG + lid;
  if (c >= dims.C) { return; }
  for (var t = 0u; t < dims.T; t++) {
    var pos = 0.0;
    for (var b = 0u; b < dims.B; b++) {
      let bt = b * dims.T + t;
      let g = dout[bt * dims.C + c];
      let v = min(ids[bt], dims.V - 1u);
      dwte[v * dims.C + c] += g;
      pos += g;
    }
    dwpe[t * dims.C + c] += pos;
  }
}
