// matmul_subgroup.wgsl — C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z] (+ bias[n]), A shared by subgroup shuffles.
//
// Same contract as matmul.wgsl (shapes, TRANS_A/TRANS_B storage, batch strides, alpha/beta, bias), for
// operands whose contiguous dimension is a multiple of 4 (the host's fitsVec4). Needs the `subgroups`
// feature; the host uses it only on such a device, with SG set to the adapter's smallest subgroup size
// so that one workgroup is one subgroup (lane ids 0..SG-1), and checks it against the CPU reference
// on the device before it is ever chosen (a driver that splits the workgroup otherwise gives wrong sums).
// Layout: a workgroup of SG lanes owns rows m0..m0+3 of C; lane l owns columns 4·(SG·wg.x + l) .. +3.
// All lanes need the same rows of op(A): per step of 4·SG along k each lane loads one 4×4 block of them
// (its own k slice) and the others get it by subgroupShuffle, register to register, instead of each
// lane reading all of it from memory (the vec4 kernel) or through workgroup memory and barriers (the
// tiled one). Shuffles stay in uniform control flow: edge lanes load zeros and mask their stores.
enable subgroups;

override SG: u32 = 32u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;

struct Dims {
  M: u32, N: u32, K: u32, batch: u32,
  strideA: u32, strideB: u32, strideC: u32,
  alpha: f32, beta: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// loadA / loadB (4×4 blocks as vec4s): shaders/lib/matmul_vec4_load.wgsl; storeRow: shaders/lib/matmul_store.wgsl
// (both appended by the descriptor).

@compute @workgroup_size(SG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let m0 = wg.y * 4u;
  let nOwn = (wg.x * SG + lane) * 4u;
  // Lanes past N compute on a clamped column (their loads stay in bounds) and store nothing.
  let n0 = min(nOwn, ((dims.N - 1u) / 4u) * 4u);
  let z = wg.z;
  let baseA = z * dims.strideA / 4u;
  let baseB = z * dims.strideB / 4u;
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var kb = 0u; kb < dims.K; kb += 4u * SG) {
    // This lane's k slice of op(A); zeros past K (the shuffles below stay in uniform control flow).
    var mine = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    if (kb + 4u * lane < dims.K) { mine = loadA(baseA, m0, kb + 4u * lane); }
    for (var j = 0u; j < SG; j++) {
      if (kb + 4u * j >= dims.K) { break; }  // uniform: kb and j are the same in every lane
      let ab = mat4x4<f32>(subgroupShuffle(mine[0], j), subgroupShuffle(mine[1], j),
                           subgroupShuffle(mine[2], j), subgroupShuffle(mine[3], j));
      let bb = loadB(baseB, kb + 4u * j, n0);
      acc[0] += bb * ab[0];
      acc[1] += bb * ab[1];
      acc[2] += bb * ab[2];
      acc[3] += bb * ab[3];
    }
  }
  if (nOwn >= dims.N) { return; }
  let baseC = z * dims.strideC;
  storeRow(baseC, m0, nOwn, acc[0]);
  storeRow(baseC, m0 + 1u, nOwn, acc[1]);
  storeRow(baseC, m0 + 2u, nOwn, acc[2]);
  storeRow(baseC, m0 + 3u, nOwn, acc[3]);
}
