// What a device offers the kernels beyond WebGPU's baseline, read from the device itself (which holds
// exactly the optional features getDevice asked of the adapter), and the key under which per-device
// kernel choices are stored.
import type { GpuContext } from './context';

/** Optional features some kernel variants need; getDevice requests each one the adapter has. */
export const KERNEL_FEATURES = ['shader-f16', 'subgroups'] as const;
export type KernelFeature = (typeof KERNEL_FEATURES)[number];

export interface DeviceFeatures {
  /** The kernel features the device has, in KERNEL_FEATURES order. */
  has: KernelFeature[];
  /** Smallest subgroup the adapter may run (GPUAdapterInfo.subgroupMinSize), when it reports one. */
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

export function deviceFeatures(ctx: Pick<GpuContext, 'device' | 'adapterInfo'>): DeviceFeatures {
  const info = ctx.adapterInfo as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  return {
    has: KERNEL_FEATURES.filter((f) => ctx.device.features.has(f)),
    subgroupMinSize: info.subgroupMinSize || undefined,
    subgroupMaxSize: info.subgroupMaxSize || undefined,
  };
}

/**
 * Names the adapter for stored kernel choices: vendor, architecture, device and description (WebGPU's
 * nearest to a driver version), so a new GPU or driver description is tuned afresh.
 */
export function adapterKey(info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>): string {
  return [info.vendor, info.architecture, info.device, info.description].map((s) => s || '-').join('/');
}

/** SwiftShader, llvmpipe, lavapipe: CPU implementations of WebGPU. */
export function isSoftwareAdapter(info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>): boolean {
  return /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description} ${info.device}`);
}
