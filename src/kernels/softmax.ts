// softmax family: row softmax over the last dim and its backward. See shaders/softmax_*.wgsl.
import softmaxBackwardWgsl from '../../shaders/softmax_backward.wgsl?raw';
import softmaxForwardWgsl from '../../shaders/softmax_forward.wgsl?raw';
import workgroupReduceWgsl from '../../shaders/lib/workgroup_reduce.wgsl?raw';
import type { GpuContext } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import type { SoftmaxShape } from '../ref/softmax';
import { type KernelDescriptor, fold2d, u32, withLib } from '../gpu/kernel';

export type { SoftmaxShape };

/**
 * Threads per row for one-workgroup-per-row reductions (a power of two, for the tree reduction).
 * Short rows get a narrow workgroup so most threads are not idle; long rows (vocab, T = 1024) the
 * widest that every device allows (maxComputeInvocationsPerWorkgroup ≥ 256).
 */
export function rowWorkgroup(n: number): number {
  if (n <= 32) return 32;
  if (n <= 256) return 64;
  return 256;
}

export const softmaxForwardKernel: KernelDescriptor<SoftmaxShape> = {
  name: 'softmax_forward',
  wgsl: withLib(softmaxForwardWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'x:read', 'y:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.N)],
  overrides: (s) => ({ WG: rowWorkgroup(s.N) }),
  dispatch: (s) => fold2d(s.rows),
  key: (s) => `softmax_forward/wg${rowWorkgroup(s.N)}`,
};

export const softmaxBackwardKernel: KernelDescriptor<SoftmaxShape> = {
  name: 'softmax_backward',
  wgsl: withLib(softmaxBackwardWgsl, workgroupReduceWgsl),
  bindings: ['dims:uniform', 'dy:read', 'y:read', 'dx:rw'],
  uniforms: (s) => [u32(s.rows), u32(s.N)],
  overrides: (s) => ({ WG: rowWorkgroup(s.N) }),
  dispatch: (s) => fold2d(s.rows),
  key: (s) => `softmax_backward/wg${rowWorkgroup(s.N)}`,
};

export function checkSoftmaxShape(s: SoftmaxShape): void {
  for (const d of ['rows', 'N'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`softmax: ${d}=${s[d]} must be a positive integer`);
  }
}

/** y (rows, N) = softmax(x) over the last dim. */
export function prepareSoftmaxForward(ctx: GpuContext, s: SoftmaxShape, buf: { x: GPUBuffer; y: GPUBuffer }) {
  checkSoftmaxShape(s);
  return ctx.prepare(softmaxForwardKernel, s, buf);
}

/** dx (rows, N) = y ⊙ (dy − ⟨dy, y⟩); y is the forward output. */
export function prepareSoftmaxBackward(
  ctx: GpuContext, s: SoftmaxShape, buf: { dy: GPUBuffer; y: GPUBuffer; dx: GPUBuffer },
) {
  checkSoftmaxShape(s);
  return ctx.prepare(softmaxBackwardKernel, s, buf);
}

export async function runSoftmaxForward(ctx: GpuContext, s: SoftmaxShape, buf: { x: GPUBuffer; y: GPUBuffer }) {
  const launch = await prepareSoftmaxForward(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}

export async function runSoftmaxBackward(
  ctx: GpuContext, s: SoftmaxShape, buf: { dy: GPUBuffer; y: GPUBuffer; dx: GPUBuffer },
) {
  const launch = await prepareSoftmaxBackward(ctx, s, buf);
  ctx.submit([launch], launch.label);
  launch.destroy();
}
