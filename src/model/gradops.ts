// Whole-gradient operations shared by the GPT-2 and ViT engines, for the trainer's clipping and NaN
// guard: the global L2 norm (gradnorm_* kernels, deterministic two-pass sum), in-place scaling
// (elementwise_scale, as torch.nn.utils.clip_grad_norm_ multiplies the grads) and a non-finite count.
// Norm and scan launches are prepared once (their uniforms never change); a scale launch is built per
// call without awaiting (its pipeline is compiled up front: await ready() before the first scale), so
// scaleGrads is ordered before whatever the caller submits next.
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { elementwiseScaleKernel } from '../kernels/elementwise';
import { gradnormPartialCount, prepareGradNorm } from '../kernels/gradnorm';
import { prepareNonfinite, resetNonfinite } from '../kernels/nonfinite';
import { liveLaunch } from './launch';

/** A gradient tensor: n elements of buffer from element offset (offset a multiple of the binding alignment). */
export interface GradRange {
  buffer: GPUBuffer;
  offset: number; // elements
  n: number;
}

export class GradOps {
  private normLaunches: Launch[] | undefined;
  private scanLaunches: Launch[] | undefined;
  private readonly partials: GPUBuffer;
  private readonly out: GPUBuffer; // (2) [‖g‖₂, clip coefficient]
  private readonly result: GPUBuffer; // (2) u32 [count, first index]

  private scalePipeline: GPUComputePipeline | undefined;
  private readonly compiling: Promise<void>;

  /** ranges: every gradient tensor, disjoint. Starts compiling the scale pipeline. */
  constructor(private readonly ctx: GpuContext, private readonly ranges: readonly GradRange[]) {
    if (ranges.length === 0) throw new Error('GradOps: no gradient tensors');
    this.compiling = ctx.pipeline(elementwiseScaleKernel, { n: 1 }).then((p) => { this.scalePipeline = p; });
    this.partials = ctx.createBuffer('grads/norm-partials', 4 * gradnormPartialCount(ranges.map((r) => r.n)));
    this.out = ctx.createBuffer('grads/norm', 8);
    this.result = ctx.createBuffer('grads/nonfinite', 8);
  }

  /** Resolves once scale() can run (the engines await it in create or before their first step). */
  ready(): Promise<void> {
    return this.compiling;
  }

  private binding(r: GradRange): BufferBinding {
    return { buffer: r.buffer, offset: r.offset * 4, size: r.n * 4 };
  }

  /** ‖g‖₂ over every range (one readback of 4 bytes). */
  async norm(): Promise<number> {
    this.normLaunches ??= await prepareGradNorm(this.ctx, this.ranges.map((r) => ({ x: this.binding(r), n: r.n })), 1,
      { partials: this.partials, out: this.out });
    this.ctx.submit(this.normLaunches, 'grads/norm');
    return (await this.ctx.readF32(this.out, 1))[0];
  }

  /** g ← factor·g on every range, queued now (synchronous: no await between the call and the submit). */
  scale(factor: number): void {
    if (!Number.isFinite(factor)) throw new Error(`scaleGrads: factor ${factor} is not finite`);
    const pipeline = this.scalePipeline;
    if (!pipeline) throw new Error('scaleGrads: called before the first step (the scale kernel is still compiling)');
    const launches = this.ranges.map((r) =>
      liveLaunch(this.ctx, pipeline, elementwiseScaleKernel, { n: r.n, alpha: factor }, { x: this.binding(r) }).launch);
    this.ctx.submit(launches, 'grads/scale');
    for (const l of launches) l.destroy();
  }

  /** Number of NaN/±Inf gradient elements. */
  async nonFinite(): Promise<number> {
    this.scanLaunches ??= await prepareNonfinite(this.ctx, this.ranges.map((r) => ({ x: this.binding(r), n: r.n })), this.result);
    resetNonfinite(this.ctx, this.result);
    this.ctx.submit(this.scanLaunches, 'grads/nonfinite');
    return (await this.ctx.readU32(this.result, 1))[0];
  }

  destroy(): void {
    for (const l of [...(this.normLaunches ?? []), ...(this.scanLaunches ?? [])]) l.destroy();
    for (const b of [this.partials, this.out, this.result]) b.destroy();
  }
}

