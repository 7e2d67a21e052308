// lora family: y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ around a frozen W (nn.Linear (OUT, IN) or Conv1D (IN, OUT)).
// Forward: h = x·Aᵀ (matmul.wgsl), then lora_forward.wgsl fuses the base and the LoRA products.
// Backward: dB += s·dyᵀ·h, dh = s·dy·B, dA += dhᵀ·x (matmul.wgsl), then lora_backward.wgsl fuses
// dx = dy·W + dh·A. W and b never get a gradient. See src/ref/lora.ts for the spec.
import loraForwardWgsl from '../../shaders/lora_forward.wgsl?raw';
import loraBackwardWgsl from '../../shaders/lora_backward.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { LoraShape as RefLoraShape } from '../ref/lora';
import { type KernelDescriptor, ceilDiv, f32, u32 } from '../gpu/kernel';
import { prepareMatmul } from './matmul';
import { type WeightFormat, isPackedFormat, prepareWeightMatmul } from './packed';

/** The reference's shape, plus how the frozen W is held (default F32; BF16/F16 packed: src/kernels/packed.ts). */
export type LoraShape = RefLoraShape & { wFormat?: WeightFormat };

export type LoraKernelShape = LoraShape & { hasBias?: boolean; accumulate?: boolean };

/** As matmul.ts: a few rows (N ≤ 16) or columns waste a 64×64 tile; use a narrower workgroup. */
function workgroup(rows: number, cols: number): [number, number] {
  if (rows <= 16) return [32, 4];
  if (cols <= 16) return [4, 32];
  return [16, 16];
}

const layout = (s: LoraShape) => (s.conv1d ? 'conv1d' : 'linear');

export const loraForwardKernel: KernelDescriptor<LoraKernelShape> = {
  name: 'lora_forward',
  wgsl: loraForwardWgsl,
  bindings: ['dims:uniform', 'x:read', 'w:read', 'bias:read', 'h:read', 'lora_b:read', 'y:rw'],
  uniforms: (s) => [u32(s.N), u32(s.IN), u32(s.OUT), u32(s.R), f32(s.scale)],
  overrides: (s) => {
    const [x, y] = workgroup(s.N, s.OUT);
    return { WG_X: x, WG_Y: y, CONV1D: s.conv1d ? 1 : 0, HAS_BIAS: s.hasBias ? 1 : 0 };
  },
  dispatch: (s) => {
    const [x, y] = workgroup(s.N, s.OUT);
    return [ceilDiv(s.OUT, 4 * x), ceilDiv(s.N, 4 * y), 1];
  },
  key: (s) => `lora_forward/wg${workgroup(s.N, s.OUT).join('x')}/${layout(s)}${s.hasBias ? '/bias' : ''}`,
};

export const loraBackwardKernel: KernelDescriptor<LoraKernelShape> = {
  name: 'lora_backward',
  wgsl: loraBackwardWgsl,
  bindings: ['dims:uniform', 'dy:read', 'w:read', 'dh:read', 'lora_a:read', 'dx:rw'],
  uniforms: (s) => [u32(s.N), u32(s.IN), u32(s.OUT), u32(s.R)],
  overrides: (s) => {
    const [x, y] = workgroup(s.N, s.IN);
    return { WG_X: x, WG_Y: y, CONV1D: s.conv1d ? 1 : 0, ACCUMULATE: s.accumulate ? 1 : 0 };
  },
  dispatch: (s) => {
    const [x, y] = workgroup(s.N, s.IN);
    return [ceilDiv(s.IN, 4 * x), ceilDiv(s.N, 4 * y), 1];
  },
  key: (s) => `lora_backward/wg${workgroup(s.N, s.IN).join('x')}/${layout(s)}${s.accumulate ? '/acc' : ''}`,
};

export function checkLoraShape(s: LoraShape): void {
  for (const d of ['N', 'IN', 'OUT', 'R'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`lora: ${d}=${s[d]} must be a positive integer`);
  }
  if (!Number.isFinite(s.scale)) throw new KernelShapeError(`lora: scale=${s.scale} must be finite`);
}

export interface LoraForwardBuffers {
  x: BufferBinding;     // (N, IN)
  w: BufferBinding;     // (OUT, IN), or (IN, OUT) for Conv1D; frozen
  bias?: BufferBinding; // (OUT); frozen
  loraA: BufferBinding; // (R, IN)
  loraB: BufferBinding; // (OUT, R)
  h: BufferBinding;     // (N, R) = x·Aᵀ, written and cached for the backward
  y: BufferBinding;     // (N, OUT), written `=`
}

export interface LoraBackwardBuffers {
  x: BufferBinding;
  w: BufferBinding;
  loraA: BufferBinding;
  loraB: BufferBinding;
  h: BufferBinding;  // (N, R) from the forward
  dy: BufferBinding; // (N, OUT)
  dh: BufferBinding; // (N, R) scratch, written `=`
  dA: BufferBinding; // (R, IN), accumulated
  dB: BufferBinding; // (OUT, R), accumulated
  dx: BufferBinding; // (N, IN), `=` or `+=` (accumulateDx)
}

/** [h = x·Aᵀ, fused y]: encode in order in one pass. Without a bias, x stands in for the unused binding. */
export async function prepareLoraForward(ctx: GpuContext, s: LoraShape, buf: LoraForwardBuffers): Promise<Launch[]> {
  checkLoraShape(s);
  const { N, IN, R } = s;
  const h = await prepareMatmul(ctx, { M: N, N: R, K: IN, transB: true }, { a: buf.x, b: buf.loraA, c: buf.h });
  if (isPackedFormat(s.wFormat)) return [h, ...await preparePackedBaseForward(ctx, s, buf)];
  return [
    h,
    await ctx.prepare(loraForwardKernel, { ...s, hasBias: !!buf.bias }, {
      x: buf.x, w: buf.w, bias: buf.bias ?? buf.x, h: buf.h, lora_b: buf.loraB, y: buf.y,
    }),
  ];
}

/** [dB, dh, dA, dx] in dependency order. dA and dB accumulate (`+=`): zero them for a fresh gradient. */
export async function prepareLoraBackward(
  ctx: GpuContext, s: LoraShape, buf: LoraBackwardBuffers, opts: { accumulateDx?: boolean } = {},
): Promise<Launch[]> {
  checkLoraShape(s);
  const { N, IN, OUT, R, scale } = s;
  return [
    // dB (OUT, R) += s · dyᵀ · h; dy is stored (N, OUT) = (K, M), hence transA.
    await prepareMatmul(ctx, { M: OUT, N: R, K: N, transA: true, alpha: scale, beta: 1 }, { a: buf.dy, b: buf.h, c: buf.dB }),
    // dh (N, R) = s · dy · B, B stored (OUT, R) = (K, N).
    await prepareMatmul(ctx, { M: N, N: R, K: OUT, alpha: scale }, { a: buf.dy, b: buf.loraB, c: buf.dh }),
    // dA (R, IN) += dhᵀ · x; dh is stored (N, R) = (K, M), hence transA.
    await prepareMatmul(ctx, { M: R, N: IN, K: N, transA: true, beta: 1 }, { a: buf.dh, b: buf.x, c: buf.dA }),
    ...isPackedFormat(s.wFormat)
      ? await preparePackedInputGrad(ctx, s, { dy: buf.dy, w: buf.w, dh: buf.dh, loraA: buf.loraA, dx: buf.dx }, !!opts.accumulateDx)
      : [await ctx.prepare(loraBackwardKernel, { ...s, accumulate: !!opts.accumulateDx }, {
        dy: buf.dy, w: buf.w, dh: buf.dh, lora_a: buf.loraA, dx: buf.dx,
      })],
  ];
}

/**
 * A packed W has no fused LoRA kernel: y = x·Wᵀ + b (matmul_packed), then y += s·h·Bᵀ (a second
 * matmul, beta = 1). The same sums as lora_forward.wgsl, added in two passes instead of one.
 */
export async function preparePackedBaseForward(
  ctx: GpuContext, s: LoraShape, buf: Pick<LoraForwardBuffers, 'x' | 'w' | 'bias' | 'h' | 'loraB' | 'y'>,
): Promise<Launch[]> {
  const { N, IN, OUT, R, scale } = s;
  return [
    await prepareWeightMatmul(ctx, { M: N, N: OUT, K: IN, transB: !s.conv1d }, s.wFormat, { a: buf.x, w: buf.w, bias: buf.bias, c: buf.y }),
    // B stored (OUT, R) = (N, K) of this product, hence transB.
    await prepareMatmul(ctx, { M: N, N: OUT, K: R, transB: true, alpha: scale, beta: 1 }, { a: buf.h, b: buf.loraB, c: buf.y }),
  ];
}

/** dx (=, or += when accumulating) = dy·W (matmul_packed), then dx += dh·A: lora_backward.wgsl's sums in two passes. */
export async function preparePackedInputGrad(
  ctx: GpuContext, s: LoraShape, buf: { dy: BufferBinding; w: BufferBinding; dh: BufferBinding; loraA: BufferBinding; dx: BufferBinding }, accumulate: boolean,
): Promise<Launch[]> {
  const { N, IN, OUT, R } = s;
  return [
    // nn.Linear W (OUT, IN) is the (K, N) operand; Conv1D W (IN, OUT) is read transposed.
    await prepareWeightMatmul(ctx, { M: N, N: IN, K: OUT, transB: s.conv1d, beta: accumulate ? 1 : 0 }, s.wFormat, { a: buf.dy, w: buf.w, c: buf.dx }),
    // A stored (R, IN) = (K, N).
    await prepareMatmul(ctx, { M: N, N: IN, K: R, beta: 1 }, { a: buf.dh, b: buf.loraA, c: buf.dx }),
  ];
}
