// patch_im2col.wgsl — ViT patch embedding, step 1 of 2: patches[b·P + py·Wp + px, (cin·p + ky)·p + kx]
//                      = images[b, cin, py·p + ky, px·p + kx]
//
// A Conv2d with kernel = stride = p is a matmul over non-overlapping patches: after this gather,
// out (B·P, C) = patches · weightᵀ + bias with the flattened Conv2d weight (C, Cin·p·p) (matmul.wgsl,
// TRANS_B) — HF's `projection(pixel_values).flatten(2).transpose(1, 2)`, patches in row-major (py, px).
// Shapes: images (B, Cin, H, W) NCHW f32, H and W multiples of p (host-checked); Hp = H/p, Wp = W/p,
// P = Hp·Wp; patches (B·P, Cin·p·p) row-major, columns in (cin, ky, kx) order = weight.flatten(1).
// Threads: one thread per patches element, flat index = row·(Cin·p·p) + col, so neighbouring threads
// read neighbouring pixels of an image row. Grid folded (fold2d): flat workgroup = wid.x + wid.y·nwg.x.
// The patches matrix is cached for the backward (dweight = dOutᵀ · patches). Writes `=`.
override WG: u32 = 64;

struct Dims { B: u32, Cin: u32, H: u32, W: u32, p: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> images: array<f32>;
@group(0) @binding(2) var<storage, read_write> patches: array<f32>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let p = dims.p;
  let Wp = dims.W / p;
  let P = (dims.H / p) * Wp;
  let K = dims.Cin * p * p;
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= dims.B * P * K) { return; }
  let row = idx / K;
  let col = idx % K;
  let b = row / P;
  let py = (row % P) / Wp;
  let px = (row % P) % Wp;
  let cin = col / (p * p);
  let ky = (col / p) % p;
  let kx = col % p;
  let y = py * p + ky;
  let x = px * p + kx;
  patches[idx] = images[((b * dims.Cin + cin) * dims.H + y) * dims.W + x];
}
