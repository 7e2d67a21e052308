// Every WGSL file compiles, belongs to a descriptor, and its bindings match that descriptor's list
// (names, order, and access), so a binding mismatch fails here rather than as a GPU validation error.
import { describe, expect, it } from 'vitest';
import { type KernelDescriptor, parseBinding } from '../../src/gpu/kernel';
import { KERNEL_FEATURES } from '../../src/gpu/features';
import { matmulSubgroupKernel } from '../../src/kernels/matmul_variants';
import { testContext } from '../helpers/gpu';

const shaderFiles = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
// Function libraries (no entry point) that descriptors append with withLib().
const libFiles = import.meta.glob('../../shaders/lib/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const kernelModules = import.meta.glob('../../src/kernels/*.ts', { eager: true }) as Record<string, Record<string, unknown>>;

function isDescriptor(x: unknown): x is KernelDescriptor<unknown> {
  const d = x as KernelDescriptor<unknown>;
  return !!d && typeof d === 'object' && typeof d.name === 'string' && typeof d.wgsl === 'string'
    && Array.isArray(d.bindings) && typeof d.dispatch === 'function' && typeof d.key === 'function';
}

// Descriptors made by a factory from a device property (the subgroup matmul's lane count) are not module
// exports: one of each, with any value, stands for them (the WGSL and bindings do not depend on it).
const fromFactories = [matmulSubgroupKernel(4)];
const descriptors = [...Object.values(kernelModules).flatMap((m) => Object.values(m).filter(isDescriptor)), ...fromFactories];

/** The device feature each WGSL `enable` extension needs. */
const FEATURE_OF: Record<string, (typeof KERNEL_FEATURES)[number]> = { f16: 'shader-f16', subgroups: 'subgroups' };
const enablesOf = (wgsl: string) => [...wgsl.matchAll(/^enable\s+([\w\s,]+);/gm)].flatMap((m) => m[1].split(',').map((e) => e.trim()));
const shaderName = (path: string) => path.split('/').pop()!.replace(/\.wgsl$/, '');

/** `@group(0) @binding(n) var<space[, access]> name` declarations, in binding order. */
function declaredBindings(wgsl: string): { name: string; kind: string }[] {
  const re = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(\w+)\s*(?:,\s*(\w+)\s*)?>\s*(\w+)/g;
  const out: { index: number; name: string; kind: string }[] = [];
  for (const m of wgsl.matchAll(re)) {
    const [, index, space, access, name] = m;
    const kind = space === 'uniform' ? 'uniform' : access === 'read_write' ? 'rw' : 'read';
    out.push({ index: Number(index), name, kind });
  }
  return out.sort((a, b) => a.index - b.index).map(({ name, kind }) => ({ name, kind }));
}

describe('shaders/lib/', () => {
  for (const [path, lib] of Object.entries(libFiles)) {
    it(`${path.split('/').pop()} is appended by at least one descriptor and declares no entry point`, () => {
      expect(lib.trimStart().startsWith('//')).toBe(true);
      expect(lib).not.toMatch(/@compute|@binding/);
      expect(descriptors.some((d) => d.wgsl.includes(lib))).toBe(true);
    });
  }
});

describe('shaders/', () => {
  it('has descriptors', () => {
    expect(Object.keys(shaderFiles).length).toBeGreaterThan(0);
    expect(descriptors.length).toBeGreaterThan(0);
  });

  for (const [path, code] of Object.entries(shaderFiles)) {
    const name = shaderName(path);
    it(`${name}.wgsl compiles without errors and opens with a header comment`, async () => {
      expect(code.trimStart().startsWith('//')).toBe(true);
      const ctx = await testContext();
      const needs = enablesOf(code).map((e) => {
        const f = FEATURE_OF[e];
        expect(f, `${name}.wgsl enables '${e}', which no device feature is mapped to here`).toBeDefined();
        return f;
      });
      const missing = needs.filter((f) => !ctx.device.features.has(f));
      if (missing.length > 0) {
        // Not compiled here, for the one reason that allows it: the adapter itself lacks the feature (the
        // device asks for every kernel feature its adapter offers), so the engine never offers this kernel.
        const adapter = await navigator.gpu.requestAdapter();
        for (const f of missing) expect(adapter?.features.has(f), `${name}.wgsl: the adapter offers ${f} but the device lacks it`).toBe(false);
        return;
      }
      // The source the device compiles: the file plus any library its descriptor appends.
      const full = descriptors.find((d) => d.name === name)?.wgsl ?? code;
      const info = await ctx.device.createShaderModule({ label: name, code: full }).getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${name}.wgsl:${m.lineNum}: ${m.message}`);
      expect(errors).toEqual([]);
    });

    it(`${name}.wgsl is used by a descriptor whose bindings match its declarations`, () => {
      const users = descriptors.filter((d) => d.name === name);
      expect(users.length, `no descriptor in src/kernels/ has name '${name}'`).toBeGreaterThan(0);
      for (const d of users) {
        // The file first, so compiler line numbers are the file's; libraries may follow.
        expect(d.wgsl.startsWith(code), `descriptor '${d.name}' must import shaders/${name}.wgsl`).toBe(true);
        const appended = d.wgsl.slice(code.length);
        const libs = Object.values(libFiles).filter((lib) => appended.includes(lib));
        expect(appended.replace(/\n/g, '').length, `${name}: only shaders/lib files may be appended`)
          .toBe(libs.reduce((n, lib) => n + lib.replace(/\n/g, '').length, 0));
        expect(d.bindings.map(parseBinding), `bindings of ${name}`).toEqual(declaredBindings(code));
      }
    });
  }
});
