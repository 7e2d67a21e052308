// matmul family: batched, transposable, fused bias, alpha/beta. See shaders/matmul.wgsl.
import matmulWgsl from '../../shaders/matmul.wgsl?raw';
import matmulVec4Wgsl from '../../shaders/matmul_vec4.wgsl?raw';
import matmulVec4x8Wgsl from '../../shaders/matmul_vec4_4x8.wgsl?raw';
import matmul4x8BodyWgsl from '../../shaders/lib/matmul_4x8_body.wgsl?raw';
import matmulVec8x8Wgsl from '../../shaders/matmul_vec4_8x8.wgsl?raw';
import matmulStoreWgsl from '../../shaders/lib/matmul_store.wgsl?raw';
import matmulVec4LoadWgsl from '../../shaders/lib/matmul_vec4_load.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type MatmulShape, matmulStrides } from '../ref/matmul';
import { type KernelDescriptor, ceilDiv, f32, u32, withLib } from '../gpu/kernel';
import { chooseMatmul } from './matmul_select';

export type { MatmulShape };

/** Small outputs (LoRA's rank-r products) waste a 64×64 tile; give them a narrower workgroup. */
function workgroup(s: MatmulShape): [number, number] {
  if (s.M <= 16) return [32, 4];
  if (s.N <= 16) return [4, 32];
  return [16, 16];
}

const uniforms = (s: MatmulShape) => {
  const { strideA, strideB, strideC } = matmulStrides(s);
  return [u32(s.M), u32(s.N), u32(s.K), u32(s.batch ?? 1), u32(strideA), u32(strideB), u32(strideC),
    f32(s.alpha ?? 1), f32(s.beta ?? 0)];
};

const overrides = (s: MatmulShape) => {
  const [x, y] = workgroup(s);
  return { WG_X: x, WG_Y: y, TRANS_A: s.transA ? 1 : 0, TRANS_B: s.transB ? 1 : 0, HAS_BIAS: s.hasBias ? 1 : 0 };
};

const dispatch = (s: MatmulShape): [number, number, number] => {
  const [x, y] = workgroup(s);
  return [ceilDiv(s.N, 4 * x), ceilDiv(s.M, 4 * y), s.batch ?? 1];
};

const variantKey = (name: string) => (s: MatmulShape) => {
  const [x, y] = workgroup(s);
  return `${name}/wg${x}x${y}/${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}${s.hasBias ? '/bias' : ''}`;
};

const bindings = ['dims:uniform', 'a:read', 'b:read', 'bias:read', 'c:rw'] as const;

/** v3: 4×4 register blocking, scalar loads; any shape (the fallback). */
export const matmulKernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul', wgsl: matmulWgsl, bindings, uniforms, overrides, dispatch, key: variantKey('matmul'),
};

/** v4: 4×4 register blocking with vec4 loads; needs contiguous dimensions that are multiples of 4. */
export const matmulVec4Kernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul_vec4', wgsl: withLib(matmulVec4Wgsl, matmulVec4LoadWgsl, matmulStoreWgsl), bindings, uniforms, overrides, dispatch, key: variantKey('matmul_vec4'),
};

/** v5: vec4 loads, 4×8 outputs per thread; same alignment needs as v4. */
export const matmulVec4x8Kernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul_vec4_4x8', wgsl: withLib(matmulVec4x8Wgsl, matmulVec4LoadWgsl, matmulStoreWgsl, matmul4x8BodyWgsl), bindings, uniforms, overrides,
  dispatch: (s) => {
    const [x, y] = workgroup(s);
    return [ceilDiv(s.N, 8 * x), ceilDiv(s.M, 4 * y), s.batch ?? 1];
  },
  key: variantKey('matmul_vec4_4x8'),
};

/**
 * v7: vec4 loads, 8×8 outputs per thread (the fewest loads per multiply-add of the register-blocked kernels),
 * on a WG_X×WG_Y workgroup covering 8·WG_Y rows by 8·WG_X columns; same alignment needs as v4.
 */
export function matmulVec8x8Workgroup(wg: [number, number]): KernelDescriptor<MatmulShape> {
  const [x, y] = wg;
  return {
    name: 'matmul_vec4_8x8', wgsl: withLib(matmulVec8x8Wgsl, matmulVec4LoadWgsl, matmulStoreWgsl), bindings, uniforms,
    overrides: (s) => ({ WG_X: x, WG_Y: y, TRANS_A: s.transA ? 1 : 0, TRANS_B: s.transB ? 1 : 0, HAS_BIAS: s.hasBias ? 1 : 0 }),
    dispatch: (s) => [ceilDiv(s.N, 8 * x), ceilDiv(s.M, 8 * y), s.batch ?? 1],
    key: (s) => `matmul_vec4_8x8/wg${x}x${y}/${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}${s.hasBias ? '/bias' : ''}`,
  };
}

const vec8x8Wg16 = matmulVec8x8Workgroup([16, 16]);
const vec8x8Wg8 = matmulVec8x8Workgroup([8, 8]);

/**
 * v7 as the selector offers it: 16×16 workgroups (128×128 of C each; the least CPU per FLOP on SwiftShader, whose
 * per-workgroup cost they spread over 256 invocations) where that still makes ≥ 6 workgroups, so the 2-core
 * machine has work on both cores (attn.c_proj 128×768 makes 6); 8×8 workgroups (64×64) for smaller products.
 * `npm run bench -- --lab`, GFLOP per CPU-second of the GPU process, loaded machine, 09:01 UTC: attn.c_proj 1.95
 * (16×16) vs 1.65 (8×8) vs 1.48 (4×8 kernel); square 256 (4 workgroups at 16×16) 1.61 vs 2.04 (8×8).
 */
const vec8x8Pick = (s: MatmulShape) =>
  ceilDiv(s.M, 128) * ceilDiv(s.N, 128) * (s.batch ?? 1) >= 6 ? vec8x8Wg16 : vec8x8Wg8;
export const matmulVec8x8Kernel: KernelDescriptor<MatmulShape> = {
  name: 'matmul_vec4_8x8', wgsl: vec8x8Wg8.wgsl, bindings, uniforms,
  overrides: (s) => vec8x8Pick(s).overrides!(s),
  dispatch: (s) => vec8x8Pick(s).dispatch(s),
  key: (s) => vec8x8Pick(s).key(s),
};

/** Whether the vec4 kernel's alignment needs hold (K steps by 4; contiguous axes and strides by 4). */
export function fitsVec4(s: MatmulShape): boolean {
  const { strideA, strideB } = matmulStrides(s);
  return s.K % 4 === 0 && (!s.transA || s.M % 4 === 0) && (!!s.transB || s.N % 4 === 0)
    && strideA % 4 === 0 && strideB % 4 === 0;
}

/** Debug switch: force the scalar kernel everywhere (bisecting a suspected vec4 bug). */
export const matmulFlags = { scalarOnly: false };

/**
 * The shipped choice on SwiftShader (the selector's built-in table there; other adapters time the
 * variants, matmul_select.ts), from `npm run bench -- --lab` on SwiftShader (interleaved medians): the 4×8
 * kernel led on the plain x·W products (e.g. 1.29 vs 1.19 GFLOP/s at 1024³), the 4×4 one on the
 * transposed products of the backward pass (0.76 vs 0.71 for dy·Wᵀ); the scalar kernel is the fallback.
 * Issue 16 re-measured the weight gradient xᵀ·dy (TN, 768×3072×128; `bench -- --device` and interleaved
 * timings, loaded machine): the 4×8 kernel took 0.5–0.96 s against 0.95–2.1 s for the 4×4 one, so TN now
 * runs 4×8 as NN does; dy·Wᵀ (NT) stayed within noise and keeps the 4×4 kernel.
 * Issue 16 again (mm16): the 8×8 kernel (v7) now runs every full-size product (M, N > 16, K > 64: the selector's
 * 'full' shape classes) in all layouts: it spends the least CPU per FLOP of the four on attn.c_proj, dy·Wᵀ (2.09
 * vs 1.45 GFLOP per CPU-second for the 4×4 kernel) and xᵀ·dy (1.58 vs 1.39 for 4×8); docs/bench-swiftshader.md.
 * The LoRA rank-r products and short-K ones keep their kernels (not re-measured).
 */
export function matmulVariant(s: MatmulShape): KernelDescriptor<MatmulShape> {
  if (matmulFlags.scalarOnly || !fitsVec4(s)) return matmulKernel;
  if (s.M > 16 && s.N > 16 && s.K > 64) return matmulVec8x8Kernel; // the 'full' shape classes (matmulShapeClass)
  return !s.transB ? matmulVec4x8Kernel : matmulVec4Kernel;
}

export interface MatmulBuffers {
  a: BufferBinding;
  b: BufferBinding;
  c: BufferBinding;
  bias?: BufferBinding;
}

export function checkMatmulShape(s: MatmulShape): void {
  for (const d of ['M', 'N', 'K'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`matmul: ${d}=${s[d]} must be a positive integer`);
  }
}

/**
 * Binds a matmul with the variant this device chose for the shape's class (matmul_select.ts); without a
 * bias, `a` stands in for the unused binding.
 */
export async function prepareMatmul(ctx: GpuContext, s: MatmulShape, buf: MatmulBuffers) {
  checkMatmulShape(s);
  const shape = { ...s, hasBias: !!buf.bias };
  const kernel = matmulFlags.scalarOnly ? matmulKernel : (await chooseMatmul(ctx, shape)).kernel;
  return ctx.prepare(kernel, shape, { a: buf.a, b: buf.b, bias: buf.bias ?? buf.a, c: buf.c });
}

export async function runMatmul(ctx: GpuContext, s: MatmulShape, buf: MatmulBuffers): Promise<void> {
  const launch = await prepareMatmul(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}
