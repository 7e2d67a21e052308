// GpuContext: one device, its limits, labelled buffers, a pipeline cache keyed by kernel variant,
// prepared launches that can be re-encoded every step, readback, and typed device events.

import { AllocationTracker, type MemoryCategory } from './allocations';
import { GpuLimitError, GpuOutOfMemoryError, GpuPipelineError, GpuValidationError, KernelShapeError } from './errors';
import { GpuEvents, errorKind } from './events';
import {
  type KernelDescriptor,
  packUniforms,
  parseBinding,
} from './kernel';

/** The bytes createBuffer allocates for `bytes`: rounded up to 4, never 0. */
export const storageBytes = (bytes: number): number => Math.max(4, Math.ceil(bytes / 4) * 4);

export type BufferBinding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };
type TypedArray = Float32Array | Uint32Array | Int32Array;

const STORAGE = 0x80; // GPUBufferUsage.STORAGE, spelled out so this file loads before globals exist
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const MAP_READ = 0x01;

/**
 * Dawn's Node bindings resolve promises from inside their event-processing tick; continuing there
 * and calling back into Dawn (submit, writeBuffer) re-enters that tick and corrupts its locks
 * (crashes after a few dozen steps). Stepping out to a fresh macrotask first avoids it. Browsers
 * never resolve inside such a tick, and there the cost is one task hop per readback.
 */
export function leaveCallback(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A kernel bound to buffers, ready to be encoded into any compute pass, any number of times. */
export class Launch {
  constructor(
    readonly label: string,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    readonly workgroups: [number, number, number],
    private readonly uniformBuffer: GPUBuffer | undefined,
  ) {}

  encode(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(...this.workgroups);
  }

  /** Frees the launch's own uniform buffer; the bound tensors belong to their owner. */
  destroy(): void {
    this.uniformBuffer?.destroy();
  }
}

export class GpuContext {
  readonly events = new GpuEvents();
  /** Every buffer this context allocates, by category: bytes held now and their peak (./allocations.ts). */
  readonly allocations = new AllocationTracker();
  /** The device's limits, as granted; tests may lower the buffer limits (restrictBufferLimits). */
  limits: GPUSupportedLimits;
  readonly hasF16: boolean;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private lost = false;
  private finishProbe: GPUBuffer | undefined;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo,
    readonly backend: 'browser' | 'hardware' | 'swiftshader',
  ) {
    this.limits = device.limits;
    this.hasF16 = device.features.has('shader-f16');
    device.lost.then((info) => {
      this.lost = true;
      this.events.emit({
        type: 'device-lost',
        reason: info.reason === 'destroyed' ? 'destroyed' : 'unknown',
        message: info.message,
      });
    });
    device.addEventListener('uncapturederror', (e) => {
      const error = (e as GPUUncapturedErrorEvent).error;
      this.events.emit({ type: 'uncaptured-error', kind: errorKind(error), message: error.message });
    });
  }

  /**
   * Lowers maxBufferSize / maxStorageBufferBindingSize as this context sees them (never raises them):
   * how tests run the vocabulary-split path on a device whose real limits would never need it. Every
   * buffer and binding check, and every split plan, reads `limits`, so they all follow.
   */
  restrictBufferLimits(over: { maxBufferSize?: number; maxStorageBufferBindingSize?: number }): void {
    const granted = this.device.limits;
    const lowered: Record<string, number> = {};
    for (const [k, v] of Object.entries(over)) {
      if (typeof v === 'number') lowered[k] = Math.min(v, (granted as unknown as Record<string, number>)[k]);
    }
    // GPUSupportedLimits' fields are prototype getters, so a spread copies nothing: read through a proxy.
    this.limits = new Proxy(granted, {
      get: (target, key) => (typeof key === 'string' && key in lowered ? lowered[key] : Reflect.get(target, key)),
    });
  }

  /** The largest storage buffer one tensor can be held in and bound as: the smaller of the two limits. */
  get maxTensorBytes(): number {
    return Math.min(this.limits.maxBufferSize, this.limits.maxStorageBufferBindingSize);
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** A one-line description of the adapter, for logs and benchmark headers. */
  describe(): string {
    const i = this.adapterInfo;
    const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => s);
    return `${parts.join(' ') || 'unknown adapter'} (${this.backend})`;
  }

  /** Refuses a buffer beyond the device limits before asking the device for it. */
  checkBufferSize(bytes: number, what: string, storage = true): void {
    if (bytes > this.limits.maxBufferSize) {
      throw new GpuLimitError('maxBufferSize', bytes, this.limits.maxBufferSize, what);
    }
    if (storage && bytes > this.limits.maxStorageBufferBindingSize) {
      throw new GpuLimitError(
        'maxStorageBufferBindingSize', bytes, this.limits.maxStorageBufferBindingSize, what,
      );
    }
  }

  /** Bytes asked of the device by createBuffer so far (what an allocation scope reports). */
  private allocatedBytes = 0;

  /**
   * Runs an allocation (building a model, its plan) inside 'out-of-memory' and 'validation' error
   * scopes: a device that cannot hold it becomes a GpuOutOfMemoryError naming the bytes asked for,
   * instead of an uncaptured error and a broken run later.
   */
  async allocating<T>(what: string, fn: () => Promise<T> | T, release?: (built: T) => void): Promise<T> {
    const before = this.allocatedBytes;
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T | undefined, thrown: unknown;
    try { result = await fn(); } catch (e) { thrown = e; }
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    // A half-usable result is given back at once: the buffers that did allocate would otherwise stay
    // held by an object nobody can reach, and the next, smaller try would fail too.
    if ((oom || validation) && result !== undefined) release?.(result);
    // Dawn's message runs over several lines (the call, a C++ source line): the first says it.
    if (oom) throw new GpuOutOfMemoryError(what, this.allocatedBytes - before, oom.message.split('\n')[0]);
    if (thrown) throw thrown;
    if (validation) throw new GpuValidationError(`${what}: ${validation.message}`);
    return result as T;
  }

  /**
   * A storage buffer of at least `bytes` (rounded up to 4, never 0: storageBytes), usable as copy
   * source/dest, counted under `category` (default: the enclosing allocations.during scope, else workspace).
   */
  createBuffer(label: string, bytes: number, extraUsage = 0, category?: MemoryCategory): GPUBuffer {
    const size = storageBytes(bytes);
    this.checkBufferSize(size, `buffer '${label}'`);
    this.allocatedBytes += size;
    return this.allocations.track(this.device.createBuffer({ label, size, usage: STORAGE | COPY_SRC | COPY_DST | extraUsage }), category);
  }

  /** A uniform buffer (a launch's shape), counted under 'uniforms'. */
  createUniformBuffer(label: string, bytes: number): GPUBuffer {
    return this.allocations.track(this.device.createBuffer({ label, size: bytes, usage: UNIFORM | COPY_DST }), 'uniforms');
  }

  upload(label: string, data: TypedArray, category?: MemoryCategory): GPUBuffer {
    const buf = this.createBuffer(label, data.byteLength, 0, category);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  write(buffer: GPUBuffer, data: TypedArray, byteOffset = 0): void {
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Copies `bytes` from a buffer back to the CPU. One readback costs ~0.5 ms: do it rarely. */
  async read(buffer: GPUBuffer, bytes = buffer.size, byteOffset = 0): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.allocations.track(this.device.createBuffer({
      label: `${buffer.label}/readback`,
      size,
      usage: MAP_READ | COPY_DST,
    }), 'readback');
    const enc = this.device.createCommandEncoder({ label: `${buffer.label}/readback` });
    enc.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(1 /* GPUMapMode.READ */);
    await leaveCallback();
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    return out;
  }

  async readF32(buffer: GPUBuffer, count?: number): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, (count ?? buffer.size / 4) * 4));
  }

  async readU32(buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buffer, (count ?? buffer.size / 4) * 4));
  }

  private module(kernel: KernelDescriptor<never>): GPUShaderModule {
    let m = this.modules.get(kernel.name);
    if (!m) {
      m = this.device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
      this.modules.set(kernel.name, m);
    }
    return m;
  }

  /** Compiles (once per key) and returns the pipeline of a kernel variant. */
  pipeline<S>(kernel: KernelDescriptor<S>, shape: S): Promise<GPUComputePipeline> {
    const key = kernel.key(shape);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(kernel, shape, key);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private async compile<S>(kernel: KernelDescriptor<S>, shape: S, key: string): Promise<GPUComputePipeline> {
    const entries: GPUBindGroupLayoutEntry[] = kernel.bindings.map((b, binding) => {
      const { kind } = parseBinding(b);
      const type: GPUBufferBindingType =
        kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage';
      return { binding, visibility: 4 /* GPUShaderStage.COMPUTE */, buffer: { type } };
    });
    const layout = this.device.createPipelineLayout({
      label: key,
      bindGroupLayouts: [this.device.createBindGroupLayout({ label: key, entries })],
    });
    // createComputePipelineAsync aborts the process in Dawn's Node bindings (0.6.x); the synchronous
    // call inside a validation error scope reports the same errors and works everywhere. The module is
    // made inside the scope too: a WGSL compile error is reported by createShaderModule itself, and
    // outside a scope it would also surface as an uncaptured error (a stray warning in the studio).
    this.device.pushErrorScope('validation');
    const module = this.module(kernel as KernelDescriptor<never>);
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout,
      compute: { module, entryPoint: kernel.entryPoint ?? 'main', constants: kernel.overrides?.(shape) },
    });
    const error = await this.device.popErrorScope();
    await leaveCallback();
    if (error) {
      // Forget the module: asking an invalid module for its compilation info a second time never
      // resolves in Chromium, so a retry must start from a fresh module.
      this.modules.delete(kernel.name);
      const info = await module.getCompilationInfo();
      const msgs = info.messages.map((m) => `${kernel.name}.wgsl:${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`);
      throw new GpuPipelineError(`pipeline '${key}' failed: ${error.message}\n${msgs.join('\n')}`);
    }
    return pipeline;
  }

  /** Binds buffers (by binding name) to a kernel variant; the uniform buffer is made here. */
  async prepare<S>(kernel: KernelDescriptor<S>, shape: S, buffers: Record<string, BufferBinding>): Promise<Launch> {
    const key = kernel.key(shape);
    const workgroups = kernel.dispatch(shape);
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension;
    workgroups.forEach((n, axis) => {
      if (n > maxWg) throw new GpuLimitError('maxComputeWorkgroupsPerDimension', n, maxWg, `${key} (axis ${axis})`);
      if (n < 1 || !Number.isInteger(n)) throw new KernelShapeError(`${key}: workgroup count ${n} on axis ${axis}`);
    });
    const pipeline = await this.pipeline(kernel, shape);
    let uniformBuffer: GPUBuffer | undefined;
    const entries: GPUBindGroupEntry[] = kernel.bindings.map((b, binding) => {
      const { name, kind } = parseBinding(b);
      if (kind === 'uniform') {
        if (!kernel.uniforms) throw new KernelShapeError(`${kernel.name}: binding '${name}' needs uniforms()`);
        const data = packUniforms(kernel.uniforms(shape));
        uniformBuffer = this.createUniformBuffer(`${key}/${name}`, data.byteLength);
        this.device.queue.writeBuffer(uniformBuffer, 0, data);
        return { binding, resource: { buffer: uniformBuffer } };
      }
      const bound = buffers[name];
      if (!bound) throw new KernelShapeError(`${kernel.name}: no buffer given for binding '${name}'`);
      // A GPUBuffer has no `buffer` property; a binding object does.
      const res = 'buffer' in bound ? bound : { buffer: bound };
      const size = res.size ?? res.buffer.size - (res.offset ?? 0);
      if (size > this.limits.maxStorageBufferBindingSize) {
        throw new GpuLimitError('maxStorageBufferBindingSize', size, this.limits.maxStorageBufferBindingSize, `${key} binding '${name}'`);
      }
      return { binding, resource: res };
    });
    const bindGroup = this.device.createBindGroup({ label: `${key}/bind`, layout: pipeline.getBindGroupLayout(0), entries });
    return new Launch(key, pipeline, bindGroup, workgroups, uniformBuffer);
  }

  /** Encodes launches into one compute pass and one submit (dispatches in a pass run in order). */
  submit(launches: readonly Launch[], label = 'step'): void {
    const enc = this.device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    for (const l of launches) l.encode(pass);
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  /** Prepares, submits and frees a single launch: convenient for tests and one-off work. */
  async run<S>(kernel: KernelDescriptor<S>, shape: S, buffers: Record<string, BufferBinding>): Promise<void> {
    const launch = await this.prepare(kernel, shape, buffers);
    this.submit([launch], launch.label);
    launch.destroy();
  }

  /** Waits for all submitted work; rejects with the first validation/OOM error it raised. */
  async finish(): Promise<void> {
    // onSubmittedWorkDone() can hang in Dawn's Node bindings; a 4-byte readback waits just as well,
    // because a map completes only after all work submitted before it.
    this.finishProbe ??= this.createBuffer('finish-probe', 4, 0, 'readback');
    await this.read(this.finishProbe, 4);
  }

  destroy(): void {
    this.device.destroy();
  }
}
