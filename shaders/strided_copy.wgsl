// strided_copy.wgsl — dst[dstOffset + z·dstBatchStride + r·dstRowStride + c] (=, or += with ACCUMULATE)
//                     src[srcOffset + z·srcBatchStride + r·srcRowStride + c]
// for z < batch, r < rows, c < cols: a (batch, rows, cols) block moved between two strided layouts.
//
// Why: ViT's separate query/key/value Linears land in the packed (B·T, 3C) qkv buffer the attention
// kernels read (dst row stride 3C, offsets 0 / C / 2C), dqkv splits back the same way, patch embeddings
// go below the CLS row ((B, P, C) → (B, T, C), dst offset C), the CLS rows are gathered (src batch
// stride T·C) and their gradients scattered back. Offsets are ELEMENTS in the uniforms, not binding
// offsets, so they need no 256-byte alignment. A batch stride of 0 broadcasts (position embeddings
// added to every image). Regions written by different threads must not overlap (the host's job).
// Shapes: src and dst are flat f32 arrays; every stride and offset is in elements.
// Threads: one thread per (z, r, c), c fastest; above 65535 workgroups the host folds the count into
// (x, y) (kernel.ts fold2d): flat index (wid.x + wid.y·nwg.x)·WG + lid, overshoot masked.
// Caches nothing. Writes `=`; with ACCUMULATE, `+=` (residual-style sums such as x += pos).
override WG: u32 = 256;
override ACCUMULATE: bool = false;

struct Dims {
  batch: u32,
  rows: u32,
  cols: u32,
  src_offset: u32,
  src_row_stride: u32,
  src_batch_stride: u32,
  dst_offset: u32,
  dst_row_stride: u32,
  dst_batch_stride: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let per_batch = dims.rows * dims.cols;
  if (i >= dims.batch * per_batch) { return; }
  let z = i / per_batch;
  let r = (i % per_batch) / dims.cols;
  let c = i % dims.cols;
  let s = dims.src_offset + z * dims.src_batch_stride + r * dims.src_row_stride + c;
  let d = dims.dst_offset + z * dims.dst_batch_stride + r * dims.dst_row_stride + c;
  if (ACCUMULATE) {
    dst[d] += src[s];
  } else {
    dst[d] = src[s];
  }
}
