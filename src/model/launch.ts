// Launches whose uniforms change between submits without being prepared again: the model keeps the
// uniform buffer and rewrites it (queue.writeBuffer, ordered before the next submit). Used for the
// per-step dropout streams (new Philox offset each step) and for gradient scaling, whose launches
// must be built without an await (the pipeline is compiled beforehand).
import { type BufferBinding, type GpuContext, Launch } from '../gpu/context';
import { type KernelDescriptor, packUniforms, parseBinding } from '../gpu/kernel';

export interface LiveLaunch<S> {
  launch: Launch;
  /** Rewrites the uniforms for a new shape; its key and dispatch must stay those of the first one. */
  update(shape: S): void;
}

/** Builds a launch synchronously from an already compiled pipeline of `kernel` (ctx.pipeline). */
export function liveLaunch<S>(
  ctx: GpuContext, pipeline: GPUComputePipeline, kernel: KernelDescriptor<S>, shape: S, buffers: Record<string, BufferBinding>,
): LiveLaunch<S> {
  const key = kernel.key(shape);
  const dispatch = kernel.dispatch(shape).join(',');
  const size = packUniforms(kernel.uniforms?.(shape) ?? []).byteLength;
  const uniform = ctx.createUniformBuffer(`${key}/dims`, size);
  const update = (s: S) => {
    if (kernel.key(s) !== key || kernel.dispatch(s).join(',') !== dispatch) throw new Error(`${key}: update changed the variant or the grid`);
    ctx.device.queue.writeBuffer(uniform, 0, packUniforms(kernel.uniforms?.(s) ?? []));
  };
  update(shape);
  const entries: GPUBindGroupEntry[] = kernel.bindings.map((b, binding) => {
    const { name, kind } = parseBinding(b);
    if (kind === 'uniform') return { binding, resource: { buffer: uniform } };
    const bound = buffers[name];
    if (!bound) throw new Error(`${kernel.name}: no buffer given for binding '${name}'`);
    return { binding, resource: 'buffer' in bound ? bound : { buffer: bound } };
  });
  const bindGroup = ctx.device.createBindGroup({ label: `${key}/bind`, layout: pipeline.getBindGroupLayout(0), entries });
  return { launch: new Launch(key, pipeline, bindGroup, kernel.dispatch(shape), uniform), update };
}
