// Every matmul variant the engine can run, what each needs of the shape and of the device, and the shape
// classes the selector decides per (docs/kernels.md#matmul-variants). All variants share matmul.wgsl's
// contract: C = alpha · op(A) · op(B) + beta · C (+ bias), NN, NT, TN (and TT), batched.
import matmulTiledWgsl from '../../shaders/matmul_tiled.wgsl?raw';
import matmulSubgroupWgsl from '../../shaders/matmul_subgroup.wgsl?raw';
import matmulF16Wgsl from '../../shaders/matmul_f16.wgsl?raw';
import matmulQuadWgsl from '../../shaders/matmul_quad_16x12.wgsl?raw';
import matmulStoreWgsl from '../../shaders/lib/matmul_store.wgsl?raw';
import matmulQuadBodyWgsl from '../../shaders/lib/matmul_quad_body.wgsl?raw';
import matmulVec4LoadWgsl from '../../shaders/lib/matmul_vec4_load.wgsl?raw';
import type { DeviceFeatures, KernelFeature } from '../gpu/features';
import { type KernelDescriptor, ceilDiv, f32, u32, withLib } from '../gpu/kernel';
import { type MatmulShape, matmulStrides } from '../ref/matmul';
import { fitsVec4, matmulKernel, matmulVariant, matmulVec4Kernel, matmulVec4x8Kernel, matmulVec8x8Kernel } from './matmul';

export type MatmulVariantId = 'scalar' | 'vec4' | 'vec4x8' | 'vec8x8' | 'quad16x12' | 'tiled' | 'subgroup' | 'f16';

const uniforms = (s: MatmulShape) => {
  const { strideA, strideB, strideC } = matmulStrides(s);
  return [u32(s.M), u32(s.N), u32(s.K), u32(s.batch ?? 1), u32(strideA), u32(strideB), u32(strideC),
    f32(s.alpha ?? 1), f32(s.beta ?? 0)];
};
const bindings = ['dims:uniform', 'a:read', 'b:read', 'bias:read', 'c:rw'] as const;
const layout = (s: MatmulShape) => `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}${s.hasBias ? '/bias' : ''}`;
const flags = (s: MatmulShape) => ({ TRANS_A: s.transA ? 1 : 0, TRANS_B: s.transB ? 1 : 0, HAS_BIAS: s.hasBias ? 1 : 0 });

/** Workgroup-shared 64×64 tiles, vec4 loads, a 4×4 register micro-tile per thread (matmul_tiled.wgsl). */
export const matmulTiledKernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul_tiled', wgsl: withLib(matmulTiledWgsl, matmulStoreWgsl), bindings, uniforms, overrides: flags,
  dispatch: (s) => [ceilDiv(s.N, 64), ceilDiv(s.M, 64), s.batch ?? 1],
  key: (s) => `matmul_tiled/${layout(s)}`,
};

/** A subgroup of `sg` lanes per workgroup sharing op(A) by shuffles (matmul_subgroup.wgsl). */
export function matmulSubgroupKernel(sg: number): KernelDescriptor<MatmulShape> {
  return {
    name: 'matmul_subgroup', wgsl: withLib(matmulSubgroupWgsl, matmulVec4LoadWgsl, matmulStoreWgsl), bindings, uniforms,
    overrides: (s) => ({ ...flags(s), SG: sg }),
    dispatch: (s) => [ceilDiv(s.N, 4 * sg), ceilDiv(s.M, 4), s.batch ?? 1],
    key: (s) => `matmul_subgroup/sg${sg}/${layout(s)}`,
  };
}

/** The quad kernel's workgroup shapes (WG_X a multiple of 4, so a quad never spans two rows of threads). */
const QUAD_WORKGROUPS: [number, number][] = [[8, 8], [4, 16], [16, 4]];

/**
 * The workgroup that wastes the fewest invocations on `s` (each covers 16·WG_Y rows × 12·WG_X columns of C, and
 * an invocation past the edge still runs the whole k loop); 8×8 on a tie. A 256×128 product (a C-128 model's
 * c_proj) fills 11 of 16 columns of threads on 8×8, 11 of 12 on 4×16.
 */
export function quadWorkgroup(s: Pick<MatmulShape, 'M' | 'N'>): [number, number] {
  const cost = ([x, y]: [number, number]) => ceilDiv(s.N, 12 * x) * x * ceilDiv(s.M, 16 * y) * y;
  return QUAD_WORKGROUPS.reduce((best, wg) => (cost(wg) < cost(best) ? wg : best));
}

/**
 * 16×12 outputs per thread, op(A)'s rows shared by the four lanes of each quad (matmul_quad_16x12.wgsl): the
 * fewest storage loads per multiply-add of the variants; the workgroup shape per product (quadWorkgroup).
 */
export const matmulQuadKernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul_quad_16x12', wgsl: withLib(matmulQuadWgsl, matmulVec4LoadWgsl, matmulStoreWgsl, matmulQuadBodyWgsl), bindings, uniforms,
  overrides: (s) => {
    const [x, y] = quadWorkgroup(s);
    return { ...flags(s), WG_X: x, WG_Y: y };
  },
  dispatch: (s) => {
    const [x, y] = quadWorkgroup(s);
    return [ceilDiv(s.N, 12 * x), ceilDiv(s.M, 16 * y), s.batch ?? 1];
  },
  key: (s) => `matmul_quad_16x12/wg${quadWorkgroup(s).join('x')}/${layout(s)}`,
};

/** matmul_vec4's layout with f16 products and f32 sums (matmul_f16.wgsl). */
export const matmulF16Kernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul_f16', wgsl: withLib(matmulF16Wgsl, matmulVec4LoadWgsl, matmulStoreWgsl), bindings, uniforms,
  overrides: (s) => ({ ...flags(s), WG_X: 16, WG_Y: 16 }),
  dispatch: (s) => [ceilDiv(s.N, 64), ceilDiv(s.M, 64), s.batch ?? 1],
  key: (s) => `matmul_f16/${layout(s)}`,
};

/** |got − want| ≤ atol + rtol·|want| on the check product (K ≤ 36, inputs in [−1, 1)). */
export interface VariantTolerance {
  atol: number;
  rtol: number;
}

/** f32 variants differ from the reference only in summation order (the tests' TOL.matmul). */
const F32_TOL: VariantTolerance = { atol: 1e-4, rtol: 1e-4 };
/**
 * f16 products: each input rounds to 11 significant bits (2⁻¹¹ relative), each 4-term partial sum again;
 * over K = 36 terms of |a·b| ≤ 1 the error stays below ~36 · 3 · 2⁻¹¹ ≈ 0.05 and is ~0.01 in practice.
 */
export const F16_TOL: VariantTolerance = { atol: 3e-2, rtol: 1e-2 };

export interface MatmulVariantInfo {
  id: MatmulVariantId;
  kernel: KernelDescriptor<MatmulShape>;
  tolerance: VariantTolerance;
}

export interface SkippedVariant {
  id: MatmulVariantId;
  reason: string;
}

export interface VariantOptions {
  /** Offer the f16-compute variant (reduced precision: never for training). Default false. */
  allowF16?: boolean;
}

/** All variant ids in preference order: on a tie in timing the earlier one is kept. */
export const MATMUL_VARIANT_IDS: MatmulVariantId[] = ['vec4x8', 'vec8x8', 'quad16x12', 'vec4', 'tiled', 'subgroup', 'f16', 'scalar'];

const needsFeature = (f: KernelFeature, features: DeviceFeatures) =>
  `needs the '${f}' feature, which this device does not have (it has: ${features.has.join(', ') || 'none of shader-f16, subgroups'})`;

/** Why the quad kernels (F32 and packed) cannot run on a device with `features`, or undefined where they can. */
export function quadUnavailable(features: DeviceFeatures): string | undefined {
  if (!features.has.includes('subgroups')) return needsFeature('subgroups', features);
  if (!features.subgroupMinSize) return 'the adapter does not report its subgroup sizes (subgroupMinSize)';
  if (features.subgroupMinSize < 4) return `needs subgroups of at least 4 lanes for its quad operations (this adapter's can have ${features.subgroupMinSize})`;
  return undefined;
}

/**
 * The variants that can run shape `s` on a device with `features`, and every other one with the reason it
 * cannot (a missing feature, an alignment the shape lacks, reduced precision not asked for).
 */
export function matmulVariants(features: DeviceFeatures, s: MatmulShape, options: VariantOptions = {}):
{ eligible: MatmulVariantInfo[]; skipped: SkippedVariant[] } {
  const eligible: MatmulVariantInfo[] = [];
  const skipped: SkippedVariant[] = [];
  const aligned = fitsVec4(s);
  const notAligned = 'needs vec4-aligned operands (K, and each operand\'s contiguous axis and batch stride, multiples of 4)';
  for (const id of MATMUL_VARIANT_IDS) {
    const skip = (reason: string) => skipped.push({ id, reason });
    if (id === 'scalar') eligible.push({ id, kernel: matmulKernel, tolerance: F32_TOL });
    else if (!aligned) skip(notAligned);
    else if (id === 'vec4') eligible.push({ id, kernel: matmulVec4Kernel, tolerance: F32_TOL });
    else if (id === 'vec4x8') eligible.push({ id, kernel: matmulVec4x8Kernel, tolerance: F32_TOL });
    else if (id === 'vec8x8') eligible.push({ id, kernel: matmulVec8x8Kernel, tolerance: F32_TOL });
    else if (id === 'tiled') eligible.push({ id, kernel: matmulTiledKernel, tolerance: F32_TOL });
    else if (id === 'quad16x12') {
      const why = quadUnavailable(features);
      if (why) skip(why);
      else eligible.push({ id, kernel: matmulQuadKernel, tolerance: F32_TOL });
    } else if (id === 'subgroup') {
      if (!features.has.includes('subgroups')) skip(needsFeature('subgroups', features));
      else if (!features.subgroupMinSize) skip('the adapter does not report its subgroup sizes (subgroupMinSize)');
      else eligible.push({ id, kernel: matmulSubgroupKernel(Math.min(64, features.subgroupMinSize)), tolerance: F32_TOL });
    } else if (id === 'f16') {
      if (!features.has.includes('shader-f16')) skip(needsFeature('shader-f16', features));
      else if (!options.allowF16) skip('computes in f16 (~1e-3 relative error), outside the f32 tolerances of training: only on request');
      else eligible.push({ id, kernel: matmulF16Kernel, tolerance: F16_TOL });
    }
  }
  return { eligible, skipped };
}

/**
 * The shape class a choice holds for: layout (NN/NT/TN/TT), the fused epilogue (bias, accumulate into C),
 * alignment (which variants can run at all) and the outline (a LoRA rank-r side ≤ 16, a short K ≤ 64, or a
 * full product), since the fastest kernel differs between those more than between sizes within one.
 */
export function matmulShapeClass(s: MatmulShape): string {
  const outline = s.M <= 16 ? 'M≤16' : s.N <= 16 ? 'N≤16' : s.K <= 64 ? 'K≤64' : 'full';
  const epilogue = [s.hasBias ? 'bias' : '', (s.beta ?? 0) !== 0 ? 'acc' : ''].filter(Boolean).join('+');
  return [`${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`, epilogue || 'plain', fitsVec4(s) ? 'vec4' : 'any', outline].join(' ');
}

/**
 * The kernel lab's choice on SwiftShader (shipped; docs/kernels.md#swiftshader), as a variant id: matmul.ts's
 * feature-free table (matmulVariant), except that a full-size aligned product runs the quad kernel where the
 * device has the subgroups it needs (issue 16: 1.3–1.8× the 8×8 kernel's GFLOP/s on every bench product,
 * docs/bench-swiftshader.md#quad16x12).
 */
export function shippedMatmulVariant(s: MatmulShape, features?: DeviceFeatures): MatmulVariantId {
  const k = matmulVariant(s);
  if (k === matmulVec8x8Kernel && features && !quadUnavailable(features)) return 'quad16x12';
  return k === matmulVec4x8Kernel ? 'vec4x8' : k === matmulVec8x8Kernel ? 'vec8x8' : k === matmulVec4Kernel ? 'vec4' : 'scalar';
}

/** The kernel shippedMatmulVariant names. */
export function shippedMatmulKernel(s: MatmulShape, features?: DeviceFeatures): KernelDescriptor<MatmulShape> {
  const id = shippedMatmulVariant(s, features);
  return id === 'quad16x12' ? matmulQuadKernel : matmulVariant(s);
}
