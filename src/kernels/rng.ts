// rng family: counter-based Philox4x32-10 fills (uniform, raw bits, normal). See shaders/rng_*.wgsl.
// Counter-based: the output is a pure function of (seed, counter), so a fill is reproducible on any
// device, in any order, and dropout/noise masks can be regenerated in backward instead of stored.
import rngNormalWgsl from '../../shaders/rng_normal.wgsl?raw';
import rngUniformWgsl from '../../shaders/rng_uniform.wgsl?raw';
import type { BufferBinding, GpuContext } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type RngNormalShape, type RngShape, type RngUniformShape, counterBase, splitSeed } from '../ref/rng';
import { type KernelDescriptor, ceilDiv, f32, fold2d, u32 } from '../gpu/kernel';

export type { RngNormalShape, RngShape, RngUniformShape };
export { splitSeed };

const WG = 64;

/** One thread per 4-element Philox block. */
const dispatch = (s: RngShape) => fold2d(ceilDiv(ceilDiv(s.n, 4), WG), s.maxWorkgroupsPerDim);
const streamFields = (s: RngShape) => [u32(s.n), u32(s.seedLo), u32(s.seedHi), ...counterBase(s).map(u32)];

export const rngUniformKernel: KernelDescriptor<RngUniformShape> = {
  name: 'rng_uniform',
  wgsl: rngUniformWgsl,
  bindings: ['dims:uniform', 'out:rw'],
  uniforms: (s) => [...streamFields(s), f32(s.lo ?? 0), f32(s.hi ?? 1)],
  overrides: (s) => ({ WG, RAW_BITS: s.rawBits ? 1 : 0 }),
  dispatch,
  key: (s) => `rng_uniform/wg${WG}${s.rawBits ? '/raw' : ''}`,
};

export const rngNormalKernel: KernelDescriptor<RngNormalShape> = {
  name: 'rng_normal',
  wgsl: rngNormalWgsl,
  bindings: ['dims:uniform', 'out:rw'],
  uniforms: (s) => [...streamFields(s), f32(s.mean ?? 0), f32(s.std ?? 1)],
  overrides: () => ({ WG }),
  dispatch,
  key: () => `rng_normal/wg${WG}`,
};

export function checkRngShape(s: RngShape): void {
  if (!Number.isInteger(s.n) || s.n < 1) throw new KernelShapeError(`rng: n=${s.n} must be a positive integer`);
  const words = [s.seedLo, s.seedHi, s.offset, ...(s.counter ?? [])];
  if (words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
    throw new KernelShapeError(`rng: seed/offset/counter words ${words.join(', ')} must be u32`);
  }
}

/** Fills out[0..n) with uniform floats in [lo, hi) (or, with rawBits, the Philox words). */
export async function runRngUniform(ctx: GpuContext, s: RngUniformShape, out: BufferBinding): Promise<void> {
  checkRngShape(s);
  await ctx.run(rngUniformKernel, s, { out });
}

/** Fills out[0..n) with N(mean, std²) samples. */
export async function runRngNormal(ctx: GpuContext, s: RngNormalShape, out: BufferBinding): Promise<void> {
  checkRngShape(s);
  await ctx.run(rngNormalKernel, s, { out });
}
