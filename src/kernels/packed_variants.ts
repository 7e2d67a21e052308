// The packed-weight matmul variants (docs/kernels.md#packed-weights), what each needs of the shape and of
// the device, and the per-device choice between them (the F32 matmul's selector, src/kernels/matmul_select.ts,
// under the kernel name 'matmul_packed'). All sum in f32; the first three share lib/matmul_4x8_body.wgsl's loop:
//   packed      4 halves per load, core-WGSL unpack; K % 4 == 0 (and N % 4 == 0 for W stored (K, N))
//   packed-f16  the same loads read natively as vec4<f16>: F16 weights on a device with `shader-f16`
//   packed-any  element-wise loads: every shape (a row of W may start mid-word, K need not step by 4)
//   packed-quad packed's loads in the F32 quad kernel's 16×12 loop (lib/matmul_quad_body.wgsl, A shared by
//               the lanes of a quad): subgroups of ≥ 4 lanes; SwiftShader's shipped choice for full products
import matmulPackedWgsl from '../../shaders/matmul_packed.wgsl?raw';
import matmulPackedAnyWgsl from '../../shaders/matmul_packed_any.wgsl?raw';
import matmulPackedF16Wgsl from '../../shaders/matmul_packed_f16.wgsl?raw';
import matmulPackedQuadWgsl from '../../shaders/matmul_packed_quad.wgsl?raw';
import matmulQuadBodyWgsl from '../../shaders/lib/matmul_quad_body.wgsl?raw';
import matmulBodyWgsl from '../../shaders/lib/matmul_4x8_body.wgsl?raw';
import matmulPackedLoadWgsl from '../../shaders/lib/matmul_packed_load.wgsl?raw';
import matmulStoreWgsl from '../../shaders/lib/matmul_store.wgsl?raw';
import unpackHalfWgsl from '../../shaders/lib/unpack_half.wgsl?raw';
import { type Candidate, type Trial } from '../gpu/autotune';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { assertClose, launchTrial } from '../gpu/trial';
import { type DeviceFeatures, deviceFeatures, isSoftwareAdapter } from '../gpu/features';
import { type KernelDescriptor, ceilDiv, f32, u32, withLib } from '../gpu/kernel';
import { type MatmulShape, matmul } from '../ref/matmul';
import { packF32, unpackToF32 } from '../ref/packed';
import { seededUniform } from '../ref/seeded';
import { type MatmulChoiceReport, checkShape, matmulSelection, selectorFor, trialShape } from './matmul_select';
import { quadUnavailable, quadWorkgroup } from './matmul_variants';
import { tune } from '../gpu/autotune';

/** A matmul whose B operand is a packed weight: batch 1, A not transposed. */
export type PackedMatmulShape = Pick<MatmulShape, 'M' | 'N' | 'K' | 'transB' | 'alpha' | 'beta' | 'hasBias'> & { f16: boolean };

export type PackedVariantId = 'packed' | 'packed-quad' | 'packed-f16' | 'packed-any';

/** Small outputs (LoRA's rank-r side, a short vocabulary chunk) waste a 64-wide tile: as matmul.ts. */
function workgroup4x8(s: PackedMatmulShape): [number, number] {
  if (s.M <= 16) return [32, 4];
  if (s.N <= 16) return [4, 32];
  return [16, 16];
}

/** A loop's outputs per thread (rows × columns of C) and its workgroup per product. */
interface Tile {
  rows: number;
  cols: number;
  workgroup: (s: PackedMatmulShape) => [number, number];
}
const TILE_4X8: Tile = { rows: 4, cols: 8, workgroup: workgroup4x8 };
/** The F32 quad kernel's blocks and workgroups (quadWorkgroup: the fewest idle invocations; WG_X a multiple of 4). */
const TILE_QUAD: Tile = { rows: 16, cols: 12, workgroup: quadWorkgroup };

const layout = (s: PackedMatmulShape) => `N${s.transB ? 'T' : 'N'}${s.hasBias ? '/bias' : ''}`;

/** A 4×8-loop descriptor; `tile` swaps in another loop's workgroup and outputs per thread (the quad kernel). */
function descriptor(name: PackedVariantId, wgsl: string, halfOverride: boolean, tile = TILE_4X8): KernelDescriptor<PackedMatmulShape> {
  const workgroup = tile.workgroup;
  return {
    name: `matmul_${name.replace('-', '_')}`, // the shader file's name
    wgsl,
    bindings: ['dims:uniform', 'a:read', 'w:read', 'bias:read', 'c:rw'],
    // matmul.wgsl's Dims with batch 1 and zero strides: the 4×8 body is the F32 kernel's.
    uniforms: (s) => [u32(s.M), u32(s.N), u32(s.K), u32(1), u32(0), u32(0), u32(0), f32(s.alpha ?? 1), f32(s.beta ?? 0)],
    overrides: (s) => {
      const [x, y] = workgroup(s);
      return { WG_X: x, WG_Y: y, TRANS_B: s.transB ? 1 : 0, HAS_BIAS: s.hasBias ? 1 : 0, ...(halfOverride ? { F16: s.f16 ? 1 : 0 } : {}) };
    },
    dispatch: (s) => {
      const [x, y] = workgroup(s);
      return [ceilDiv(s.N, tile.cols * x), ceilDiv(s.M, tile.rows * y), 1];
    },
    key: (s) => `${name}/${s.f16 ? 'f16' : 'bf16'}/wg${workgroup(s).join('x')}/${layout(s)}`,
  };
}

export const matmulPackedKernel = descriptor('packed',
  withLib(matmulPackedWgsl, unpackHalfWgsl, matmulPackedLoadWgsl, matmulStoreWgsl, matmulBodyWgsl), true);
export const matmulPackedF16Kernel = descriptor('packed-f16',
  withLib(matmulPackedF16Wgsl, matmulPackedLoadWgsl, matmulStoreWgsl, matmulBodyWgsl), false);
export const matmulPackedAnyKernel = descriptor('packed-any',
  withLib(matmulPackedAnyWgsl, unpackHalfWgsl, matmulStoreWgsl, matmulBodyWgsl), true);
export const matmulPackedQuadKernel = descriptor('packed-quad',
  withLib(matmulPackedQuadWgsl, unpackHalfWgsl, matmulPackedLoadWgsl, matmulStoreWgsl, matmulQuadBodyWgsl), true, TILE_QUAD);

/** Whether every quad of halves the aligned variants load lies inside one row of W (and A's vec4s in one row of A). */
export const fitsPackedVec4 = (s: Pick<MatmulShape, 'N' | 'K' | 'transB'>): boolean => s.K % 4 === 0 && (!!s.transB || s.N % 4 === 0);

export interface PackedVariantInfo {
  id: PackedVariantId;
  kernel: KernelDescriptor<PackedMatmulShape>;
}

export interface SkippedPackedVariant {
  id: PackedVariantId;
  reason: string;
}

/** Preference order: on a tie in timing the earlier one is kept. */
export const PACKED_VARIANT_IDS: PackedVariantId[] = ['packed', 'packed-quad', 'packed-f16', 'packed-any'];

/**
 * The variants that can run `s` on a device with `features`, and every other one with the reason it cannot
 * (an alignment the shape lacks, a missing feature, a BF16 weight for the f16 reader).
 */
export function packedVariants(features: DeviceFeatures, s: PackedMatmulShape): { eligible: PackedVariantInfo[]; skipped: SkippedPackedVariant[] } {
  const eligible: PackedVariantInfo[] = [];
  const skipped: SkippedPackedVariant[] = [];
  const aligned = fitsPackedVec4(s);
  for (const id of PACKED_VARIANT_IDS) {
    const skip = (reason: string) => skipped.push({ id, reason });
    if (id === 'packed-any') eligible.push({ id, kernel: matmulPackedAnyKernel });
    else if (!aligned) skip('needs K % 4 == 0, and N % 4 == 0 when W is stored (K, N): every quad of halves inside one row');
    else if (id === 'packed') eligible.push({ id, kernel: matmulPackedKernel });
    else if (id === 'packed-quad') {
      const why = quadUnavailable(features);
      if (why) skip(why);
      else eligible.push({ id, kernel: matmulPackedQuadKernel });
    }
    else if (!features.has.includes('shader-f16')) {
      skip(`needs the 'shader-f16' feature, which this device does not have (it has: ${features.has.join(', ') || 'none of shader-f16, subgroups'})`);
    } else if (!s.f16) {
      skip('reads F16 weights only: BF16 bits are not f16 values (8 exponent bits against 5; most of BF16\'s range overflows f16)');
    } else eligible.push({ id, kernel: matmulPackedF16Kernel });
  }
  return { eligible, skipped };
}

/** The class a choice holds for: weight format, layout, epilogue, alignment and outline (as matmulShapeClass). */
export function packedShapeClass(s: PackedMatmulShape): string {
  const outline = s.M <= 16 ? 'M≤16' : s.N <= 16 ? 'N≤16' : s.K <= 64 ? 'K≤64' : 'full';
  const epilogue = [s.hasBias ? 'bias' : '', (s.beta ?? 0) !== 0 ? 'acc' : ''].filter(Boolean).join('+');
  return [s.f16 ? 'f16' : 'bf16', `N${s.transB ? 'T' : 'N'}`, epilogue || 'plain', fitsPackedVec4(s) ? 'vec4' : 'any', outline].join(' ');
}

/**
 * The shipped choice on a CPU implementation (SwiftShader, docs/kernels.md#packed-weights): the aligned
 * kernels wherever the shape allows them (`npm run bench -- --only packed`), else the element-wise one; of the
 * aligned ones, the quad kernel exactly where the F32 side ships quad16x12 (shippedMatmulVariant: a full
 * product, M, N > 16 and K > 64, on a device with subgroups of ≥ 4 lanes), else the 4×8 one.
 */
export function shippedPackedVariant(s: PackedMatmulShape, features?: DeviceFeatures): PackedVariantId {
  if (!fitsPackedVec4(s)) return 'packed-any';
  const full = s.M > 16 && s.N > 16 && s.K > 64;
  return full && features && !quadUnavailable(features) ? 'packed-quad' : 'packed';
}

/** The trial check's tolerance: the F32 matmul's, the widened weight being exact. */
const PACKED_TOL = { atol: 1e-4, rtol: 1e-4 };

/** A variant made ready to validate (against the CPU reference on the widened weight, f32 tolerance) and time. */
export async function packedTrial(ctx: GpuContext, v: PackedVariantInfo, s: PackedMatmulShape): Promise<Trial> {
  const format = s.f16 ? 'f16' : 'bf16';
  const made: GPUBuffer[] = [];
  const bind = async (shape: PackedMatmulShape, seed: number) => {
    const words = packF32(seededUniform(shape.K * shape.N, seed + 1), format);
    const bufs = {
      a: ctx.upload('tune/a', seededUniform(shape.M * shape.K, seed)), w: ctx.upload('tune/w', words),
      bias: ctx.upload('tune/bias', seededUniform(shape.N, seed + 2)), c: ctx.upload('tune/c', seededUniform(shape.M * shape.N, seed + 3)),
    };
    made.push(...Object.values(bufs));
    return { bufs, words, launch: await ctx.prepare(v.kernel, shape, bufs) };
  };
  const asPacked = (m: MatmulShape): PackedMatmulShape => ({ ...m, f16: s.f16 });
  try {
    const ts = asPacked(trialShape(s));
    const timed = await bind(ts, 31);
    return launchTrial(ctx, timed.launch, made, 2 * ts.M * ts.N * ts.K, async () => {
      const cs = asPacked(checkShape(s));
      const { bufs, words, launch } = await bind(cs, 41);
      const want = seededUniform(cs.M * cs.N, 44); // C's old contents (beta ≠ 0 reads them)
      matmul(want, seededUniform(cs.M * cs.K, 41), unpackToF32(words, cs.K * cs.N, format), cs.hasBias ? seededUniform(cs.N, 43) : null, cs);
      ctx.submit([launch], launch.label);
      launch.destroy();
      assertClose(await ctx.readF32(bufs.c, want.length), want, PACKED_TOL);
    });
  } catch (e) {
    made.forEach((b) => b.destroy());
    throw e;
  }
}

/** The packed variant for `s` on this device: the shape class's choice, made now if it is the first of its class. */
export async function choosePackedMatmul(ctx: GpuContext, s: PackedMatmulShape): Promise<PackedVariantInfo> {
  const features = deviceFeatures(ctx);
  const { eligible } = packedVariants(features, s);
  const software = isSoftwareAdapter(ctx.adapterInfo) && !matmulSelection.tuneSoftware;
  const choice = await selectorFor(ctx).choose({
    kernel: 'matmul_packed',
    shapeClass: packedShapeClass(s),
    candidates: (): Candidate[] => eligible.map((v) => ({ id: v.id, prepare: () => packedTrial(ctx, v, s) })),
    builtIn: software ? () => shippedPackedVariant(s, features) : undefined,
  });
  return eligible.find((e) => e.id === choice.variant)!;
}

/** Binds c = alpha · a · op(W) + beta · c (+ bias) with this device's packed variant for the shape. */
export async function preparePackedMatmul(
  ctx: GpuContext, s: PackedMatmulShape, buf: { a: BufferBinding; w: BufferBinding; c: BufferBinding; bias?: BufferBinding },
): Promise<Launch> {
  const v = await choosePackedMatmul(ctx, s);
  return ctx.prepare(v.kernel, s, { a: buf.a, w: buf.w, bias: buf.bias ?? buf.a, c: buf.c });
}

/** The packed-weight products the Device panel reports (a BF16 Linear's forward and dx), beside the F32 ones. */
export const REPORTED_PACKED_PRODUCTS: { name: string; shape: PackedMatmulShape }[] = [
  { name: 'x·Wᵀ, W packed BF16 (nn.Linear forward)', shape: { M: 128, N: 768, K: 768, transB: true, f16: false } },
  { name: 'dy·W, W packed BF16 (nn.Linear dx)', shape: { M: 128, N: 768, K: 768, f16: false } },
];

/** As reportMatmulChoices (./matmul_select.ts), for the packed-weight matmul's shape classes. */
export async function reportPackedChoices(ctx: GpuContext, products = REPORTED_PACKED_PRODUCTS): Promise<MatmulChoiceReport[]> {
  const out: MatmulChoiceReport[] = [];
  for (const { name, shape } of products) {
    const v = await choosePackedMatmul(ctx, shape);
    const shapeClass = packedShapeClass(shape);
    const record = (await selectorFor(ctx).records()).find((r) => r.kernel === 'matmul_packed' && r.shapeClass === shapeClass)!;
    // The tuner's own figure when it just timed them, else the same timing on the chosen variant only.
    const gflops = record.gflops ?? (await tune([{ id: v.id, prepare: () => packedTrial(ctx, v, shape) }])).gflops!;
    out.push({ name, shapeClass, variant: v.id, source: record.source, gflops });
  }
  return out;
}
