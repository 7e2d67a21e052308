// Half-precision packing (src/ref/packed.ts) against the loader's exact widening (src/io/safetensors/dtype.ts):
// every half round-trips, rounding is to the nearest half (ties to even), and flat packing is the file's bytes.
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32Bits, f16BitsToF32Bits } from '../../src/io/safetensors/dtype';
import { f32ToBf16Bits, f32ToF16Bits, packF32, packedAt, packedWords, roundToFormat, unpackToF32 } from '../../src/ref/packed';
import { uniformF32 } from '../helpers/random';

const asF32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];
const widen = { bf16: (h: number) => asF32(bf16BitsToF32Bits(h)), f16: (h: number) => asF32(f16BitsToF32Bits(h)) };
const toBits = { bf16: f32ToBf16Bits, f16: f32ToF16Bits };

describe('f32 → half bits', () => {
  for (const f of ['bf16', 'f16'] as const) {
    it(`${f}: every non-NaN half pattern round-trips exactly`, () => {
      for (let h = 0; h < 0x10000; h++) {
        const x = widen[f](h);
        if (Number.isNaN(x)) {
          expect(Number.isNaN(widen[f](toBits[f](x)))).toBe(true);
          continue;
        }
        if (toBits[f](x) !== h) throw new Error(`${f} 0x${h.toString(16)} (${x}) → 0x${toBits[f](x).toString(16)}`);
      }
    });

    it(`${f}: rounds to the nearest half, ties to even`, () => {
      const xs = [...uniformF32(4000, 7, -70000, 70000), ...uniformF32(4000, 8, -1e-4, 1e-4), ...uniformF32(2000, 9, -2, 2)];
      for (const x of xs) {
        const h = toBits[f](x), got = widen[f](h);
        if (!Number.isFinite(got)) continue; // overflow to ±Inf (F16 above 65520)
        const up = widen[f](h + 1), down = widen[f](h - 1);
        const d = Math.abs(got - x);
        for (const n of [up, down]) {
          if (!Number.isFinite(n)) continue;
          const dn = Math.abs(n - x);
          if (dn < d || (dn === d && (h & 1) === 1)) throw new Error(`${f}(${x}) = ${got}, but ${n} is nearer (or the even tie)`);
        }
      }
    });
  }

  it('ties: 1 + 2^-8 → 1 in BF16, 1 + 3·2^-8 → 1 + 2^-6; 1 + 2^-11 → 1 in F16', () => {
    expect(roundToFormat(1 + 2 ** -8, 'bf16')).toBe(1);
    expect(roundToFormat(1 + 3 * 2 ** -8, 'bf16')).toBe(1 + 2 ** -6);
    expect(roundToFormat(1 + 2 ** -11, 'f16')).toBe(1);
    expect(roundToFormat(1 + 3 * 2 ** -11, 'f16')).toBe(1 + 2 ** -9);
    expect(roundToFormat(70000, 'f16')).toBe(Infinity);
  });
});

describe('flat packing', () => {
  it('element i is half (i & 1) of word i >> 1 — the little-endian file bytes; an odd count leaves the last high half 0', () => {
    const values = Float32Array.of(1, -2, 0.5, 3, 1.5); // 5 values: 3 words, the last half-filled
    for (const f of ['bf16', 'f16'] as const) {
      const words = packF32(values, f);
      expect(words.length).toBe(packedWords(5));
      expect(words[2] >>> 16).toBe(0);
      expect(Array.from(unpackToF32(words, 5, f))).toEqual(Array.from(values));
      const bytes = new Uint8Array(words.buffer);
      for (let i = 0; i < 5; i++) expect(bytes[2 * i] | (bytes[2 * i + 1] << 8)).toBe(toBits[f](values[i]));
      expect(packedAt(words, 3, f)).toBe(3);
    }
  });
});
