// DoRA on one linear module of either engine (docs/method.md#dora), built from the dora_*
// and lora_* kernels with buffer bindings (GPT-2's trainables are ranges of one flat buffer):
//   norm = ‖W + s·B·A‖ per output row (dora_row_norm, recomputed every forward, detached: DoRA §4.3)
//   h = x·Aᵀ, z = x·Wᵀ + s·h·Bᵀ (lora family, no bias);  y = (m/norm) ⊙ z + bias (dora_scale)
// Backward: dz = dy·m/norm, dm += Σ_n dy·z/norm (dora_scale_backward), then the LoRA backward with
// dy := dz gives dA, dB (through the numerator only) and dx.
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { doraRowNormKernel, doraScaleBackwardKernel, doraScaleKernel } from '../kernels/dora';
import { type LoraShape, prepareLoraBackward, prepareLoraForward } from '../kernels/lora';
import { doraRowNormPackedKernel, isPackedFormat } from '../kernels/packed';

/** PEFT key of a module's magnitude (no `.weight` suffix on disk, docs/formats.md#adapter-tensors). */
export const magnitudeName = (modulePath: string): string => `base_model.model.${modulePath}.lora_magnitude_vector`;

export interface DoraLinearForward {
  x: BufferBinding; // (N, IN)
  w: BufferBinding; // (OUT, IN), or (IN, OUT) for Conv1D; frozen
  bias?: BufferBinding; // (OUT); frozen, not rescaled
  loraA: BufferBinding; // (R, IN)
  loraB: BufferBinding; // (OUT, R)
  m: BufferBinding; // (OUT) magnitude
  norm: BufferBinding; // (OUT), written and cached for the backward
  h: BufferBinding; // (N, R), written and cached
  z: BufferBinding; // (N, OUT) = x·Wᵀ + s·h·Bᵀ, written and cached
  y: BufferBinding; // (N, OUT), written `=`
}

/** [norm, h, z, y] in dependency order. */
export async function prepareDoraLinearForward(ctx: GpuContext, s: LoraShape, b: DoraLinearForward): Promise<Launch[]> {
  return [
    isPackedFormat(s.wFormat)
      ? await ctx.prepare(doraRowNormPackedKernel, { ...s, f16: s.wFormat === 'f16' }, { w: b.w, lora_a: b.loraA, lora_b: b.loraB, norm: b.norm })
      : await ctx.prepare(doraRowNormKernel, s, { w: b.w, lora_a: b.loraA, lora_b: b.loraB, norm: b.norm }),
    ...await prepareLoraForward(ctx, s, { x: b.x, w: b.w, loraA: b.loraA, loraB: b.loraB, h: b.h, y: b.z }),
    // Without a bias, z stands in for the unused binding.
    await ctx.prepare(doraScaleKernel, { N: s.N, OUT: s.OUT, hasBias: !!b.bias }, { z: b.z, m: b.m, norm: b.norm, bias: b.bias ?? b.z, y: b.y }),
  ];
}

export interface DoraLinearBackward {
  x: BufferBinding;
  w: BufferBinding;
  loraA: BufferBinding;
  loraB: BufferBinding;
  m: BufferBinding;
  norm: BufferBinding; // from the forward
  h: BufferBinding; // from the forward
  z: BufferBinding; // from the forward
  dy: BufferBinding; // (N, OUT)
  dz: BufferBinding; // (N, OUT) scratch, written `=`
  dh: BufferBinding; // (N, R) scratch
  dA: BufferBinding; // accumulated
  dB: BufferBinding; // accumulated
  dm: BufferBinding; // (OUT), accumulated
  dx: BufferBinding; // (N, IN), `=` or `+=` (accumulateDx)
}

/** [dz & dm, dB, dh, dA, dx]. */
export async function prepareDoraLinearBackward(
  ctx: GpuContext, s: LoraShape, b: DoraLinearBackward, accumulateDx: boolean,
): Promise<Launch[]> {
  return [
    await ctx.prepare(doraScaleBackwardKernel, { N: s.N, OUT: s.OUT }, { dy: b.dy, z: b.z, m: b.m, norm: b.norm, dz: b.dz, dm: b.dm }),
    ...await prepareLoraBackward(ctx, s, {
      x: b.x, w: b.w, loraA: b.loraA, loraB: b.loraB, h: b.h, dy: b.dz, dh: b.dh, dA: b.dA, dB: b.dB, dx: b.dx,
    }, { accumulateDx }),
  ];
}

/**
 * ‖W[o, :]‖₂ per output row in [out, in] terms (Float64 sums): DoRA's initial magnitude. nn.Linear W is
 * (OUT, IN); GPT-2 Conv1D W is stored (IN, OUT), so row o of [out, in] is column o of the storage.
 */
export function rowNorms(w: ArrayLike<number>, IN: number, OUT: number, conv1d: boolean): Float32Array {
  if (w.length !== IN * OUT) throw new Error(`rowNorms: ${w.length} values for IN=${IN}, OUT=${OUT}`);
  const sq = new Float64Array(OUT);
  for (let i = 0; i < IN; i++) {
    for (let o = 0; o < OUT; o++) {
      const v = conv1d ? w[i * OUT + o] : w[o * IN + i];
      sq[o] += v * v;
    }
  }
  return Float32Array.from(sq, Math.sqrt);
}
