// F16 and BF16 → F32 decoding is exact: hand-computed bit patterns (normal, subnormal, ±0, ±Inf, NaN),
// then all 65,536 patterns of each against an independent arithmetic decoder in Float64.
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32Bits, f16BitsToF32Bits, readSafetensors } from '../../../src/io/safetensors';
import { entry, f32Bytes, stFile, u16Bytes } from './build';

const asF32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

// [f16 bits, value, f32 bits] — values worked out by hand from sign · 2^(e−15) · 1.m (or 2^−14 · 0.m).
const F16: [number, number, number][] = [
  [0x0000, 0, 0x00000000],
  [0x8000, -0, 0x80000000],
  [0x3c00, 1, 0x3f800000],
  [0xc000, -2, 0xc0000000],
  [0x3555, 0.333251953125, 0x3eaaa000], // 2^−2 · (1 + 341/1024)
  [0x3bff, 0.99951171875, 0x3f7fe000], // 1 − 2^−11
  [0x7bff, 65504, 0x477fe000], // largest finite
  [0x0400, 2 ** -14, 0x38800000], // smallest normal
  [0x03ff, 1023 * 2 ** -24, 0x387fc000], // largest subnormal
  [0x0200, 2 ** -15, 0x38000000], // subnormal, one shift
  [0x0001, 2 ** -24, 0x33800000], // smallest subnormal
  [0x8001, -(2 ** -24), 0xb3800000],
  [0x0003, 3 * 2 ** -24, 0x34400000],
  [0x7c00, Infinity, 0x7f800000],
  [0xfc00, -Infinity, 0xff800000],
  [0x7e00, NaN, 0x7fc00000], // quiet NaN
  [0x7c01, NaN, 0x7f802000], // signalling NaN: payload kept
  [0xfe00, NaN, 0xffc00000], // negative NaN
];

// [bf16 bits, value, f32 bits]: bf16 is the high half of an f32.
const BF16: [number, number, number][] = [
  [0x0000, 0, 0x00000000],
  [0x8000, -0, 0x80000000],
  [0x3f80, 1, 0x3f800000],
  [0xc000, -2, 0xc0000000],
  [0x4049, 3.140625, 0x40490000],
  [0x7f7f, 3.3895313892515355e38, 0x7f7f0000], // largest finite
  [0x0080, 2 ** -126, 0x00800000], // smallest normal
  [0x0001, 2 ** -133, 0x00010000], // smallest subnormal
  [0x807f, -127 * 2 ** -133, 0x807f0000],
  [0x7f80, Infinity, 0x7f800000],
  [0xff80, -Infinity, 0xff800000],
  [0x7fc0, NaN, 0x7fc00000],
  [0x7f81, NaN, 0x7f810000],
];

/** Independent decoder: sign · 2^(e − bias) · (1 + m/2^M), or the subnormal/special cases. */
function decodeArith(bits: number, expBits: number, mantBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const sign = bits >>> (expBits + mantBits) ? -1 : 1;
  const e = (bits >>> mantBits) & ((1 << expBits) - 1);
  const m = bits & ((1 << mantBits) - 1);
  if (e === (1 << expBits) - 1) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** (1 - bias - mantBits);
  return sign * (1 + m / 2 ** mantBits) * 2 ** (e - bias);
}

describe('F16 → F32', () => {
  it.each(F16.map((r) => [r[0].toString(16), ...r] as const))('0x%s decodes to its hand-computed value and bits', (_hex, h, value, bits) => {
    expect(f16BitsToF32Bits(h).toString(16)).toBe(bits.toString(16));
    expect(Object.is(asF32(f16BitsToF32Bits(h)), value) || (Number.isNaN(value) && Number.isNaN(asF32(bits)))).toBe(true);
  });

  it('all 65,536 patterns equal the arithmetic decoder exactly (NaN ↔ NaN, −0 ↔ −0)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const got = asF32(f16BitsToF32Bits(h));
      const want = decodeArith(h, 5, 10);
      if (!Object.is(got, want)) expect.fail(`f16 0x${h.toString(16)}: got ${got}, want ${want}`);
    }
  });
});

describe('BF16 → F32', () => {
  it.each(BF16.map((r) => [r[0].toString(16), ...r] as const))('0x%s decodes to its hand-computed value and bits', (_hex, b, value, bits) => {
    expect(bf16BitsToF32Bits(b).toString(16)).toBe(bits.toString(16));
    expect(Object.is(asF32(bits), value) || Number.isNaN(value)).toBe(true);
  });

  it('all 65,536 patterns equal the arithmetic decoder exactly', () => {
    for (let b = 0; b < 0x10000; b++) {
      const got = asF32(bf16BitsToF32Bits(b));
      const want = decodeArith(b, 8, 7);
      if (!Object.is(got, want)) expect.fail(`bf16 0x${b.toString(16)}: got ${got}, want ${want}`);
    }
  });
});

describe('half-precision tensors through the reader', () => {
  it('F16 (odd length), BF16 and an F32 left unaligned by them decode exactly', () => {
    const f16 = F16.map(([h]) => h);
    const bf16 = BF16.map(([b]) => b);
    const n16 = 2 * f16.length; // 36 bytes
    const nb = 2 * bf16.length; // 26 bytes: the F32 after it starts at 62, not a multiple of 4
    const header =
      `{"h":${entry('F16', [f16.length], [0, n16])},"b":${entry('BF16', [bf16.length], [n16, n16 + nb])},` +
      `"f":${entry('F32', [3], [n16 + nb, n16 + nb + 12])}}`;
    const data = new Uint8Array([...u16Bytes(f16), ...u16Bytes(bf16), ...f32Bytes([1.5, -0, 2 ** -149])]);
    const bytes = stFile(header, data, { pad: (8 - ((header.length + 8) % 8)) % 8 });
    const file = readSafetensors(bytes);
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    expect(bits(file.get('h').data)).toEqual(F16.map(([, , b]) => b));
    expect(bits(file.get('b').data)).toEqual(BF16.map(([, , b]) => b));
    const f = file.get('f').data;
    expect(bits(f)).toEqual([0x3fc00000, 0x80000000, 0x00000001]);
    expect(f.buffer).not.toBe(bytes.buffer); // unaligned: copied
  });
});
