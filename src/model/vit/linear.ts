// One nn.Linear y = x·Wᵀ + b, with PEFT LoRA y += s·(x·Aᵀ)·Bᵀ where the module is targeted (DoRA:
// y = (m/norm) ⊙ (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) + b, ../dora.ts). Untargeted
// modules are a plain transposed matmul; W and b never get a gradient (frozen backbone).
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareLoraBackward, prepareLoraForward } from '../../kernels/lora';
import { prepareMatmul } from '../../kernels/matmul';
import { prepareDoraLinearBackward, prepareDoraLinearForward } from '../dora';
import { type SlotDropout, prepareDroppedLoraBackward, prepareDroppedLoraForward } from '../lora_dropout';
import type { LoraSlot } from './trainable';
import type { LinearWeights } from './weights';

export interface LinearCtx {
  N: number; // rows of x
  lin: LinearWeights;
  slot: LoraSlot | undefined;
  R: number;
  scale: number;
  /** DoRA slots: z (N, OUT) and norm (OUT) cached by the forward; dz (N, ≥ OUT) backward scratch. */
  dora?: { z: GPUBuffer; norm: GPUBuffer; dz: GPUBuffer };
  /** LoRA dropout of this slot (training passes only). */
  drop?: SlotDropout;
}

const loraShape = (c: LinearCtx) => ({ N: c.N, IN: c.lin.IN, OUT: c.lin.OUT, R: c.R, scale: c.scale, conv1d: false });

/** y (N, OUT) = x (N, IN)·Wᵀ + b [+ s·h·Bᵀ with h = x·Aᵀ cached in `h`]; y written `=`. */
export async function prepareLinearForward(
  ctx: GpuContext, c: LinearCtx, x: GPUBuffer, y: GPUBuffer, h: GPUBuffer | undefined,
): Promise<Launch[]> {
  const { lin, slot } = c;
  if (slot) {
    if (!h) throw new Error(`LoRA on ${slot.module}: no h buffer`);
    if (slot.M) {
      if (!c.dora) throw new Error(`DoRA on ${slot.module}: no z/norm buffers`);
      return prepareDoraLinearForward(ctx, loraShape(c), {
        x, w: lin.w, bias: lin.b, loraA: slot.A.param, loraB: slot.B.param, m: slot.M.param, norm: c.dora.norm, h, z: c.dora.z, y,
      });
    }
    const buffers = { x, w: lin.w, bias: lin.b, loraA: slot.A.param, loraB: slot.B.param, h, y };
    if (c.drop) return prepareDroppedLoraForward(ctx, loraShape(c), c.drop, buffers);
    return prepareLoraForward(ctx, loraShape(c), buffers);
  }
  return [await prepareMatmul(ctx, { M: c.N, N: lin.OUT, K: lin.IN, transB: true }, { a: x, b: lin.w, bias: lin.b, c: y })];
}

export interface LinearBackwardBuffers {
  x: GPUBuffer; // (N, IN) the forward input
  h: GPUBuffer | undefined; // (N, R) from the forward (LoRA only)
  dy: GPUBuffer; // (N, OUT)
  dx: GPUBuffer; // (N, IN)
  dh: GPUBuffer; // (N, R) scratch (LoRA only)
}

/**
 * dx = dy·W [+ dh·A] (`=`, or `+=` with accumulateDx); LoRA: dB += s·dyᵀ·h, dA += dhᵀ·x with dh = s·dy·B
 * (the grads accumulate: the step clears them first).
 */
export async function prepareLinearBackward(
  ctx: GpuContext, c: LinearCtx, buf: LinearBackwardBuffers, accumulateDx: boolean,
): Promise<Launch[]> {
  const { lin, slot } = c;
  if (slot) {
    if (!buf.h) throw new Error(`LoRA on ${slot.module}: no h buffer`);
    if (slot.M) {
      if (!c.dora) throw new Error(`DoRA on ${slot.module}: no z/norm buffers`);
      return prepareDoraLinearBackward(ctx, loraShape(c), {
        x: buf.x, w: lin.w, loraA: slot.A.param, loraB: slot.B.param, m: slot.M.param, norm: c.dora.norm, h: buf.h,
        z: c.dora.z, dy: buf.dy, dz: { buffer: c.dora.dz, size: c.N * lin.OUT * 4 }, dh: buf.dh,
        dA: slot.A.grad, dB: slot.B.grad, dm: slot.M.grad, dx: buf.dx,
      }, accumulateDx);
    }
    const buffers = {
      x: buf.x, w: lin.w, loraA: slot.A.param, loraB: slot.B.param, h: buf.h, dy: buf.dy, dh: buf.dh,
      dA: slot.A.grad, dB: slot.B.grad, dx: buf.dx,
    };
    if (c.drop) return prepareDroppedLoraBackward(ctx, loraShape(c), c.drop, buffers, accumulateDx);
    return prepareLoraBackward(ctx, loraShape(c), buffers, { accumulateDx });
  }
  // dx (N, IN) = dy (N, OUT) · W (OUT, IN): W is already (K, N).
  const s = { M: c.N, N: lin.IN, K: lin.OUT, beta: accumulateDx ? 1 : 0 };
  return [await prepareMatmul(ctx, s, { a: buf.dy, b: lin.w, c: buf.dx })];
}
