// WebGPU in Node.js through the `webgpu` package (Dawn). On a machine without a GPU, Dawn finds no
// hardware adapter; SwiftShader (the software Vulkan driver in Debian's `chromium` package) serves
// instead. The Vulkan loader reads VK_ICD_FILENAMES when an instance is created, so setting it after
// a first failed attempt is enough: no variable has to be set before the process starts.
//
// Known limit (webgpu 0.3.8, 0.5.0 and 0.6.2 on SwiftShader from Debian's chromium 156): a loop of
// submit → copy → mapAsync crashes the process (glibc "futex facility returned an unexpected error
// code", a pthread mutex assertion, or SIGSEGV) within a few iterations once the dispatch runs long
// enough to be in flight when the map is requested; short dispatches survive. createComputePipelineAsync
// aborts and onSubmittedWorkDone can hang. The same SwiftShader inside Chromium is stable, so kernel
// tests and benchmarks run there; Node is used for device acquisition and limits only.

import { GpuUnavailableError } from './errors';

/** Where Debian's chromium (and a few other layouts) put SwiftShader's Vulkan ICD manifest. */
const SWIFTSHADER_ICD_PATHS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

export const HOW_TO_GET_AN_ADAPTER =
  'Install a Vulkan loader and SwiftShader: `apt-get install libvulkan1 chromium` (Debian), ' +
  'or point LORASC_VK_ICD at a vk_swiftshader_icd.json. On a machine with a GPU, install its Vulkan driver.';

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

// A variable specifier keeps bundlers from pulling Node-only modules into the browser build.
async function importNodeOnly<T>(specifier: string): Promise<T> {
  return (await import(/* @vite-ignore */ specifier)) as T;
}

export async function findSwiftShaderIcd(): Promise<string | undefined> {
  const fs = await importNodeOnly<typeof import('node:fs')>('node:fs');
  const candidates = [process.env.LORASC_VK_ICD, ...SWIFTSHADER_ICD_PATHS].filter(
    (p): p is string => !!p,
  );
  return candidates.find((p) => fs.existsSync(p));
}

export interface NodeAdapter {
  adapter: GPUAdapter;
  backend: 'hardware' | 'swiftshader';
}

/**
 * Hardware first, SwiftShader second. `LORASC_ADAPTER=swiftshader` skips the hardware attempt
 * (tests and benchmarks that must compare like with like).
 */
export async function requestNodeAdapter(powerPreference: GPUPowerPreference): Promise<NodeAdapter> {
  const dawn = await importNodeOnly<DawnModule>('webgpu');
  // Dawn's node bindings expect the WebGPU enums/classes (GPUBufferUsage, ...) as globals.
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // SwiftShader's WSI layer complains on stderr when this is unset; it is harmless but noisy.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';

  if (process.env.LORASC_ADAPTER !== 'swiftshader') {
    const hw = await dawn.create([]).requestAdapter({ powerPreference });
    if (hw && !isSoftware(hw)) return { adapter: hw, backend: 'hardware' };
  }
  const icd = await findSwiftShaderIcd();
  if (icd && !process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = icd;
  const sw = await dawn.create([]).requestAdapter({ forceFallbackAdapter: true });
  if (sw) return { adapter: sw, backend: 'swiftshader' };
  throw new GpuUnavailableError(
    `No WebGPU adapter in Node.js (SwiftShader ICD ${icd ? `at ${icd} did not load` : 'not found'}). ` +
      HOW_TO_GET_AN_ADAPTER,
  );
}

function isSoftware(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  return /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description} ${info.device}`);
}
