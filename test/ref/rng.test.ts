// Philox reference against the Random123 known-answer vectors, BigInt arithmetic and Gaussian
// statistics. No finite differences: a random-number generator has no backward pass.
import { describe, expect, it } from 'vitest';
import { mulhilo, philox4x32_10, rngBits, rngNormal, rngUniform, splitSeed } from '../../src/ref/rng';
import { mulberry32 } from '../helpers/random';
import { PHILOX_KAT, expectGaussian, hex } from './rngCheck';

describe('rng reference (Philox4x32-10)', () => {
  for (const [ctr, key, want] of PHILOX_KAT) {
    it(`known answer: counter ${hex(ctr)} key ${hex(key)}`, () => {
      expect(hex(philox4x32_10(ctr, key))).toBe(hex(want));
    });
  }

  it('mulhilo equals the 64-bit product (BigInt)', () => {
    const r = mulberry32(1);
    const cases = [[0, 0], [0xffffffff, 0xffffffff], [0xd2511f53, 0xffffffff], [0x10000, 0xffff]];
    for (let i = 0; i < 1000; i++) cases.push([Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]);
    for (const [a, b] of cases) {
      const p = BigInt(a) * BigInt(b);
      expect(mulhilo(a, b), `${a}·${b}`).toEqual([Number(p >> 32n), Number(p & 0xffffffffn)]);
    }
  });

  it('element i is word i mod 4 of block ⌊i/4⌋ of stream (seed, offset)', () => {
    const s = { n: 11, seedLo: 5, seedHi: 6, offset: 9 };
    const bits = new Uint32Array(s.n);
    rngBits(bits, s);
    for (let i = 0; i < s.n; i++) expect(bits[i]).toBe(philox4x32_10([i >> 2, 9, 0, 0], [5, 6])[i % 4]);
  });

  it('splitSeed gives the low and high words of a 64-bit seed', () => {
    expect(splitSeed(0x0123456789abcdefn)).toEqual({ seedLo: 0x89abcdef, seedHi: 0x01234567 });
    expect(splitSeed(42)).toEqual({ seedLo: 42, seedHi: 0 });
  });

  it('uniform floats are (w >> 8)·2⁻²⁴, in [0, 1)', () => {
    const s = { n: 4097, ...splitSeed(7n), offset: 3 };
    const bits = new Uint32Array(s.n), u = new Float32Array(s.n);
    rngBits(bits, s);
    rngUniform(u, s);
    for (let i = 0; i < s.n; i++) expect(u[i]).toBe((bits[i] >>> 8) * 2 ** -24);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
  });

  it('normal fill has the requested mean and std (100k samples)', () => {
    const z = new Float64Array(100_000);
    rngNormal(z, { n: z.length, ...splitSeed(123n), offset: 0, mean: 0.5, std: 2 });
    expectGaussian(z, 0.5, 2, 'reference normal');
  });
});
