// One way to get a GPU device, in the browser (window or worker) and in Node.js.

import { GpuUnavailableError } from './errors';
import { GpuContext } from './context';
import { KERNEL_FEATURES } from './features';

export interface DeviceOptions {
  /** Request 'high-performance' (default) or 'low-power' hardware. */
  powerPreference?: GPUPowerPreference;
  /** Enable `shader-f16` when the adapter has it (default true). */
  wantF16?: boolean;
  label?: string;
}

export type Backend = 'browser' | 'hardware' | 'swiftshader';

/** Limits we raise to the adapter's own values instead of WebGPU's small defaults. */
const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Node.js without a WebGPU global: use Dawn through the `webgpu` package. */
function isNodeWithoutWebGpu(): boolean {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return typeof process !== 'undefined' && !!process.versions?.node && !nav?.gpu;
}

async function requestAdapter(powerPreference: GPUPowerPreference): Promise<{ adapter: GPUAdapter; backend: Backend }> {
  if (isNodeWithoutWebGpu()) {
    const { requestNodeAdapter } = await import('./nodeGpu');
    return requestNodeAdapter(powerPreference);
  }
  const gpu = (globalThis as { navigator?: Navigator }).navigator?.gpu;
  if (!gpu) {
    throw new GpuUnavailableError(
      'This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge; ' +
        'on Linux start it with --enable-unsafe-webgpu.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new GpuUnavailableError('navigator.gpu.requestAdapter() returned no adapter.');
  return { adapter, backend: 'browser' };
}

/** Acquire an adapter and a device with the adapter's own limits; wrap it in a GpuContext. */
export async function getDevice(options: DeviceOptions = {}): Promise<GpuContext> {
  const { adapter, backend } = await requestAdapter(options.powerPreference ?? 'high-performance');
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  // Every optional feature a kernel variant can use, where the adapter has it: the variant selector reads
  // them back from the device (src/gpu/features.ts) and offers only the variants they allow.
  const requiredFeatures = KERNEL_FEATURES.filter((f) =>
    adapter.features.has(f) && (f !== 'shader-f16' || (options.wantF16 ?? true))) as GPUFeatureName[];
  const device = await adapter.requestDevice({
    label: options.label ?? 'lorasc-device',
    requiredLimits,
    requiredFeatures,
  });
  return new GpuContext(device, adapter.info, backend);
}
