// embedding_gather.wgsl — the body of embedding_forward.wgsl (F32 table) and embedding_forward_packed.wgsl
// (BF16/F16 table), which differ only in how one table element is read: out = wte[id] + wpe[t], one output
// element per call, positions whose id lies in another vocabulary chunk left untouched.
// Not an entry point: both descriptors append it with `withLib` (src/gpu/kernel.ts). The including shader
// declares the bindings dims (Dims below), ids, wte, wpe, out and `fn wteAt(i: u32) -> f32`, element i of
// the bound table chunk (row-major, row v − v0).
struct Dims { B: u32, T: u32, C: u32, V: u32, v0: u32, rows: u32 }

// Output element idx = (b·T + t)·C + c; nothing past B·T·C.
fn embedElement(idx: u32) {
  if (idx >= dims.B * dims.T * dims.C) { return; }
  let bt = idx / dims.C;
  let c = idx % dims.C;
  let t = bt % dims.T;
  let v = min(ids[bt], dims.V - 1u);
  if (v < dims.v0 || v - dims.v0 >= dims.rows) { return; } // another chunk's row
  out[idx] = wteAt((v - dims.v0) * dims.C + c) + wpe[t * dims.C + c];
}
