// LoRA dropout as PEFT applies it (docs/method.md#lora): y = base(x) + s·B·A·dropout(x) — the base path
// sees x, only the LoRA input is dropped; training steps only (eval forwards never drop).
// The mask of slot k at training step t is the Philox uniform stream (rng_uniform.wgsl) with key = the
// dropout seed and counter (0, t·S + k, 0, 0), S = number of LoRA slots, element i of the row-major
// (N, IN) input = word i mod 4 of block ⌊i/4⌋; an element is kept when u ≥ p and then scaled by
// 1/(1 − p). Counter-based, so a run is reproducible from (seed, step) and the backward regenerates the
// mask (the same rng launch runs again) instead of storing it; the dropped input is rebuilt into a
// shared scratch too, so dropout costs no per-slot memory.
//   forward:  u = rng(t, k);  xd = x ⊙ keep(u);  h = xd·Aᵀ;  y = x·W + b + s·h·Bᵀ (prepareBaseForward, base on x)
//   backward: u, xd again;  dB += s·dyᵀ·h;  dh = s·dy·B;  dA += dhᵀ·xd;  dx = dy·Wᵀ + keep(u) ⊙ (dh·A)
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { prepareDropoutApply } from '../kernels/dropout';
import { type LoraBackwardBuffers, type LoraForwardBuffers, type LoraShape, checkLoraShape, prepareBaseForward } from '../kernels/lora';
import { prepareWeightMatmul } from '../kernels/packed';
import { prepareMatmul } from '../kernels/matmul';
import { type RngUniformShape, rngUniformKernel, splitSeed } from '../kernels/rng';
import { type LiveLaunch, liveLaunch } from './launch';

/** Shared scratch, each (N, max IN) f32: the uniforms, the dropped input, dh·A. */
export interface DropoutScratch {
  u: GPUBuffer;
  xd: GPUBuffer;
  t: GPUBuffer;
}

/** What one slot's dropped LoRA needs: its rng launch (one per slot, encoded in forward and backward). */
export interface SlotDropout {
  p: number;
  rng: Launch;
  scratch: DropoutScratch;
}

/** The per-slot Philox streams of one plan (N rows); `setStep` points them at training step t. */
export class DropoutStreams {
  private constructor(
    private readonly streams: LiveLaunch<RngUniformShape>[],
    private readonly shapes: RngUniformShape[],
    readonly scratch: DropoutScratch,
    readonly p: number,
  ) {}

  /** ins[k] = IN of slot k, in slot order; N rows. */
  static async create(ctx: GpuContext, p: number, seed: number, N: number, ins: readonly number[], label: string): Promise<DropoutStreams> {
    if (!(p > 0 && p < 1)) throw new Error(`lora_dropout=${p} must be in (0, 1) to build dropout streams`);
    const maxIn = Math.max(...ins);
    const f = (name: string) => ctx.createBuffer(`${label}/dropout_${name}`, 4 * N * maxIn);
    const scratch = { u: f('u'), xd: f('xd'), t: f('t') };
    const key = splitSeed(seed);
    const shapes = ins.map((IN, k): RngUniformShape => ({ n: N * IN, ...key, offset: k }));
    const pipeline = await ctx.pipeline(rngUniformKernel, shapes[0]);
    const streams = shapes.map((s) => liveLaunch(ctx, pipeline, rngUniformKernel, s, { out: { buffer: scratch.u, size: 4 * s.n } }));
    return new DropoutStreams(streams, shapes, scratch, p);
  }

  slot(k: number): SlotDropout {
    return { p: this.p, rng: this.streams[k].launch, scratch: this.scratch };
  }

  /** Queues the counters of training step t (before the step's submit). */
  setStep(t: number): void {
    const S = this.streams.length;
    this.streams.forEach((l, k) => l.update({ ...this.shapes[k], offset: (t * S + k) >>> 0 }));
  }

  destroy(): void {
    for (const l of this.streams) l.launch.destroy();
    for (const b of Object.values(this.scratch)) b.destroy();
  }
}

const part = (b: GPUBuffer, n: number): BufferBinding => ({ buffer: b, size: 4 * n });

/** [u, xd, h = xd·Aᵀ, y = x·W + b + s·h·Bᵀ]. */
export async function prepareDroppedLoraForward(
  ctx: GpuContext, s: LoraShape, d: SlotDropout, buf: LoraForwardBuffers,
): Promise<Launch[]> {
  checkLoraShape(s);
  const { N, IN, R } = s, n = N * IN, { u, xd } = d.scratch;
  return [
    d.rng,
    await prepareDropoutApply(ctx, { n, p: d.p }, { x: buf.x, u: part(u, n), out: part(xd, n) }),
    await prepareMatmul(ctx, { M: N, N: R, K: IN, transB: true }, { a: part(xd, n), b: buf.loraA, c: buf.h }),
    ...await prepareBaseForward(ctx, s, buf),
  ];
}

/** [u, xd, dB, dh, dA, dx = dy·Wᵀ (= or +=), t = dh·A, dx += keep ⊙ t]. */
export async function prepareDroppedLoraBackward(
  ctx: GpuContext, s: LoraShape, d: SlotDropout, buf: LoraBackwardBuffers, accumulateDx: boolean,
): Promise<Launch[]> {
  checkLoraShape(s);
  const { N, IN, OUT, R, scale } = s, n = N * IN, { u, xd, t } = d.scratch;
  return [
    d.rng,
    await prepareDropoutApply(ctx, { n, p: d.p }, { x: buf.x, u: part(u, n), out: part(xd, n) }),
    // dB (OUT, R) += s · dyᵀ · h; dy stored (N, OUT) = (K, M): transA.
    await prepareMatmul(ctx, { M: OUT, N: R, K: N, transA: true, alpha: scale, beta: 1 }, { a: buf.dy, b: buf.h, c: buf.dB }),
    // dh (N, R) = s · dy · B, B stored (OUT, R) = (K, N).
    await prepareMatmul(ctx, { M: N, N: R, K: OUT, alpha: scale }, { a: buf.dy, b: buf.loraB, c: buf.dh }),
    // dA (R, IN) += dhᵀ · xd; dh stored (N, R) = (K, M): transA.
    await prepareMatmul(ctx, { M: R, N: IN, K: N, transA: true, beta: 1 }, { a: buf.dh, b: part(xd, n), c: buf.dA }),
    // dx (N, IN) = dy · Wᵀ in [out, in] terms: Conv1D W stored (IN, OUT) = (N, K): transB; nn.Linear (OUT, IN) = (K, N).
    await prepareWeightMatmul(ctx, { M: N, N: IN, K: OUT, transB: !!s.conv1d, beta: accumulateDx ? 1 : 0 }, s.wFormat, { a: buf.dy, w: buf.w, c: buf.dx }),
    // t (N, IN) = dh · A, A stored (R, IN) = (K, N).
    await prepareMatmul(ctx, { M: N, N: IN, K: R }, { a: buf.dh, b: buf.loraA, c: part(t, n) }),
    await prepareDropoutApply(ctx, { n, p: d.p, accumulate: true }, { x: part(t, n), u: part(u, n), out: buf.dx }),
  ];
}
