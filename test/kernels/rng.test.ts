import { describe, expect, it } from 'vitest';
import { runRngNormal, runRngUniform, splitSeed } from '../../src/kernels/rng';
import { type RngShape, rngBits, rngNormal, rngUniform } from '../../src/ref/rng';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { TOL } from '../helpers/tolerances';
import { PHILOX_KAT, expectGaussian, hex } from '../ref/rngCheck';

const SIZES = [1, 7, 4097, 70000];
/**
 * rng_normal.wgsl evaluates log, sin and cos with its own exactly-reduced series instead of the
 * builtins (SwiftShader's sin/cos are off by ~2e-4), so it agrees with the Float64 reference to a few
 * f32 ulps (measured max |diff| 7e-7 at |z| ≈ 9): much tighter than TOL.transcendental, which would
 * let a wrong series coefficient (error ~3e-5) pass.
 */
const NORMAL_TOL = { atol: 2e-6, rtol: 2e-6 };
const SEED = splitSeed(0x9e3779b97f4a7c15n);  // both key words non-zero

async function gpuBits(s: RngShape): Promise<Uint32Array> {
  const ctx = await testContext();
  const out = ctx.createBuffer('bits', s.n * 4);
  await runRngUniform(ctx, { ...s, rawBits: true }, out);
  const got = await ctx.readU32(out, s.n);
  out.destroy();
  return got;
}

async function gpuUniform(s: RngShape & { lo?: number; hi?: number }): Promise<Float32Array> {
  const ctx = await testContext();
  const out = ctx.createBuffer('uniform', s.n * 4);
  await runRngUniform(ctx, s, out);
  const got = await ctx.readF32(out, s.n);
  out.destroy();
  return got;
}

async function gpuNormal(s: RngShape & { mean?: number; std?: number }): Promise<Float32Array> {
  const ctx = await testContext();
  const out = ctx.createBuffer('normal', s.n * 4);
  await runRngNormal(ctx, s, out);
  const got = await ctx.readF32(out, s.n);
  out.destroy();
  return got;
}

describe('rng_uniform.wgsl raw bits: Philox4x32-10 known answers (Random123)', () => {
  for (const [counter, key, want] of PHILOX_KAT) {
    it(`counter ${hex(counter)} key ${hex(key)}`, async () => {
      const got = await gpuBits({ n: 4, seedLo: key[0], seedHi: key[1], offset: 0, counter: counter as [number, number, number, number] });
      expect(hex(got)).toBe(hex(want));
    });
  }
});

describe('rng_uniform.wgsl vs reference', () => {
  for (const n of SIZES) {
    it(`n=${n}: raw bits and [0, 1), [−2, 2) bit-identical; [0.1, 0.7) within 1 ulp`, async () => {
      const s = { n, ...SEED, offset: 5 };
      const bits = new Uint32Array(n);
      rngBits(bits, s);
      expectAllClose(await gpuBits(s), bits, TOL.exact, `bits n=${n}`);
      // lo + (hi − lo)·u is exact when hi − lo is a power of two, so fused multiply-add cannot differ.
      for (const [lo, hi] of [[0, 1], [-2, 2]]) {
        const want = new Float32Array(n);
        rngUniform(want, { ...s, lo, hi });
        expectAllClose(await gpuUniform({ ...s, lo, hi }), want, TOL.exact, `uniform [${lo}, ${hi}) n=${n}`);
      }
      const want = new Float32Array(n);
      rngUniform(want, { ...s, lo: 0.1, hi: 0.7 });
      const got = await gpuUniform({ ...s, lo: 0.1, hi: 0.7 });
      expectAllClose(got, want, TOL.elementwise, `uniform [0.1, 0.7) n=${n}`);
      expect(Math.max(...got)).toBeLessThan(Math.fround(0.7));
    });
  }

  it('a folded grid (fold limit 7) covers the same stream', async () => {
    const s = { n: 70000, ...SEED, offset: 1 };
    const want = new Uint32Array(s.n);
    rngBits(want, s);
    expectAllClose(await gpuBits({ ...s, maxWorkgroupsPerDim: 7 }), want, TOL.exact, 'folded bits');
  });

  it('same (seed, offset) twice gives identical output; other offsets and seeds differ', async () => {
    const s = { n: 4097, ...SEED, offset: 0 };
    const a = await gpuUniform(s);
    expectAllClose(await gpuUniform(s), a, TOL.exact, 'second run');
    for (const other of [{ ...s, offset: 1 }, { ...s, seedHi: (s.seedHi ^ 1) >>> 0 }, { ...s, seedLo: (s.seedLo ^ 1) >>> 0 }]) {
      const b = await gpuUniform(other);
      const same = a.filter((x, i) => x === b[i]).length;
      expect(same, `equal elements vs ${JSON.stringify(other)}`).toBeLessThan(10);  // ~2⁻²⁴ chance each
    }
  });
});

describe('rng_normal.wgsl vs reference', () => {
  for (const n of SIZES) {
    it(`n=${n}`, async () => {
      const s = { n, ...SEED, offset: 11, mean: 0.25, std: 1.5 };
      const want = new Float32Array(n);
      rngNormal(want, s);
      expectAllClose(await gpuNormal(s), want, NORMAL_TOL, `normal n=${n}`);
    });
  }

  it('100k samples have the requested mean and std; reruns are identical', async () => {
    const s = { n: 100_000, ...splitSeed(2024n), offset: 3, mean: -1, std: 0.5 };
    const z = await gpuNormal(s);
    expectGaussian(z, -1, 0.5, 'GPU normal');
    expect(z.every(Number.isFinite)).toBe(true);
    expectAllClose(await gpuNormal(s), z, TOL.exact, 'second run');
  });
});
