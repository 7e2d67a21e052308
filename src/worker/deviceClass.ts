// Is this WebGPU adapter a real GPU or a CPU rasterizer? Decided from the adapter itself: the standard
// `info.isFallbackAdapter`, and the vendor/architecture/description strings of the known CPU
// implementations. Headless Debian Chromium 156 on a machine without a GPU reports SwiftShader as
// { vendor: "google", architecture: "swiftshader", device: "", description: "", isFallbackAdapter: true }
// (checked on this project's CI machine); Mesa's llvmpipe (Vulkan/GL paths) names itself in the description.
export interface DeviceClass {
  /** A CPU implementation of WebGPU: runs work, but tens to hundreds of times slower than a GPU. */
  software: boolean;
  /** What gave it away, for the page ("isFallbackAdapter", "swiftshader", …); empty for a GPU. */
  evidence: string;
}

const CPU_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render driver|microsoft basic/i;

export function classifyAdapter(info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'> & { device?: string; isFallbackAdapter?: boolean }): DeviceClass {
  if (info.isFallbackAdapter === true) return { software: true, evidence: 'the adapter is a fallback adapter (isFallbackAdapter)' };
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const m = CPU_NAMES.exec(text);
  return m ? { software: true, evidence: `the adapter is ${m[0]}` } : { software: false, evidence: '' };
}
