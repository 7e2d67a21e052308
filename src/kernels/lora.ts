// lora family: y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ around a frozen W (nn.Linear (OUT, IN) or Conv1D (IN, OUT)), held in F32
// or packed BF16/F16 (src/kernels/packed.ts). Every product is a matmul the selector picks per device:
// forward h = x·Aᵀ, y = x·Wᵀ + b, y += s·h·Bᵀ; backward dB += s·dyᵀ·h, dh = s·dy·B, dA += dhᵀ·x,
// dx = dy·W (= or +=), dx += dh·A. W and b never get a gradient. See src/ref/lora.ts for the spec.
// Why no fused kernel: the fused lora_forward/lora_backward (one 4×4 scalar-load pass for the base and LoRA
// products) took 72 % of a C-256 GPT-2 step on SwiftShader; the base product on the selected matmul variant
// plus a rank-R pass over y made the step 1.6× faster (docs/bench-swiftshader.md#lora-two-pass).
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { LoraShape as RefLoraShape } from '../ref/lora';
import { prepareMatmul } from './matmul';
import { type WeightFormat, prepareWeightMatmul } from './packed';

/** The reference's shape, plus how the frozen W is held (default F32; BF16/F16 packed: src/kernels/packed.ts). */
export type LoraShape = RefLoraShape & { wFormat?: WeightFormat };

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

/** [h = x·Aᵀ, y = x·Wᵀ + b, y += s·h·Bᵀ]: encode in order in one pass. */
export async function prepareLoraForward(ctx: GpuContext, s: LoraShape, buf: LoraForwardBuffers): Promise<Launch[]> {
  checkLoraShape(s);
  const { N, IN, R } = s;
  return [
    await prepareMatmul(ctx, { M: N, N: R, K: IN, transB: true }, { a: buf.x, b: buf.loraA, c: buf.h }),
    ...await prepareBaseForward(ctx, s, buf),
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
    ...await prepareInputGrad(ctx, s, { dy: buf.dy, w: buf.w, dh: buf.dh, loraA: buf.loraA, dx: buf.dx }, !!opts.accumulateDx),
  ];
}

/** y = x·Wᵀ + b (W F32 or packed: prepareWeightMatmul), then y += s·h·Bᵀ (a rank-R matmul, beta = 1). */
export async function prepareBaseForward(
  ctx: GpuContext, s: LoraShape, buf: Pick<LoraForwardBuffers, 'x' | 'w' | 'bias' | 'h' | 'loraB' | 'y'>,
): Promise<Launch[]> {
  const { N, IN, OUT, R, scale } = s;
  return [
    await prepareWeightMatmul(ctx, { M: N, N: OUT, K: IN, transB: !s.conv1d }, s.wFormat, { a: buf.x, w: buf.w, bias: buf.bias, c: buf.y }),
    // B stored (OUT, R) = (N, K) of this product, hence transB.
    await prepareMatmul(ctx, { M: N, N: OUT, K: R, transB: true, alpha: scale, beta: 1 }, { a: buf.h, b: buf.loraB, c: buf.y }),
  ];
}

/** dx (=, or += when accumulating) = dy·W (W F32 or packed), then dx += dh·A (a rank-R matmul, beta = 1). */
export async function prepareInputGrad(
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
