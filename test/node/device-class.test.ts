// The adapter classification behind the device-aware defaults (src/worker/deviceClass.ts).
import { describe, expect, it } from 'vitest';
import { classifyAdapter } from '../../src/worker/deviceClass';

describe('classifyAdapter', () => {
  it('takes isFallbackAdapter, then the names of CPU implementations', () => {
    // What headless Debian Chromium 156 reports for SwiftShader on this machine.
    expect(classifyAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true }).software).toBe(true);
    // Older Chromium without isFallbackAdapter in info: the architecture string still tells.
    expect(classifyAdapter({ vendor: 'google', architecture: 'swiftshader', description: '' })).toEqual({ software: true, evidence: 'the adapter is swiftshader' });
    expect(classifyAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software).toBe(true);
  });
  it('calls real GPUs GPUs', () => {
    expect(classifyAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false })).toEqual({ software: false, evidence: '' });
    expect(classifyAdapter({ vendor: 'apple', architecture: 'metal-3', description: '' }).software).toBe(false);
    expect(classifyAdapter({ vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) Iris(R) Xe Graphics' }).software).toBe(false);
  });
});
