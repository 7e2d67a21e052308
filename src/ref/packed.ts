// Half-precision frozen weights, the spec of the *_packed kernels (docs/kernels.md#packed-weights).
// Packing is FLAT: element i of a tensor (row-major, in its stored layout) is half (i & 1) of word i >> 1,
// low half first — exactly the little-endian bytes of the safetensors file, so packing a BF16/F16 tensor
// is a byte copy. A tensor of odd element count ends in a half-filled word (high half 0); a row of odd
// length starts mid-word in every other row. Row padding was rejected: it would need a repack on upload,
// and the vocabulary chunks (vocab_split.ts) are packed per chunk anyway, so each starts at a word.
import type { Arr } from './types';

/** How a frozen weight is held on the GPU: F32, or two 16-bit values per u32. */
export type WeightFormat = 'f32' | 'bf16' | 'f16';

export const isPackedFormat = (f: WeightFormat | undefined): f is 'bf16' | 'f16' => f === 'bf16' || f === 'f16';

/** u32 words holding n packed halves. */
export const packedWords = (n: number): number => Math.ceil(n / 2);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 → bf16 bits, round to nearest even (NaN kept quiet). Exact for any value that came from BF16. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 → IEEE binary16 bits, round to nearest even, subnormals and overflow to ±Inf. Exact for any value that came from F16. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000; // implicit bit
    const shift = 14 - e; // 24-bit significand → subnormal's 10 bits
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let v = m >>> shift;
    if (rest > half || (rest === half && (v & 1))) v++;
    return sign | v;
  }
  let v = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (v & 1))) v++; // a carry into the exponent is still right
  return sign | v;
}

/** The value a weight holds once rounded to `format` (identity for F32). */
export function roundToFormat(x: number, format: WeightFormat): number {
  if (format === 'f32') return Math.fround(x);
  u32[0] = format === 'bf16' ? f32ToBf16Bits(x) << 16 : 0;
  if (format === 'bf16') return f32[0];
  return halfBitsToNumber(f32ToF16Bits(x));
}

function halfBitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Packs F32 values into `format` halves (rounded to nearest even), flat. */
export function packF32(values: Arr, format: 'bf16' | 'f16'): Uint32Array {
  const out = new Uint32Array(packedWords(values.length));
  const bits = format === 'bf16' ? f32ToBf16Bits : f32ToF16Bits;
  for (let i = 0; i < values.length; i++) out[i >>> 1] |= bits(values[i]) << ((i & 1) * 16);
  return out;
}

/** Element i of a packed tensor as a number: the CPU reference of the shaders' unpack. */
export function packedAt(words: Uint32Array, i: number, format: 'bf16' | 'f16'): number {
  const h = (words[i >>> 1] >>> ((i & 1) * 16)) & 0xffff;
  if (format === 'f16') return halfBitsToNumber(h);
  u32[0] = h << 16;
  return f32[0];
}

/** The n values of a packed tensor, widened to F32. */
export function unpackToF32(words: Uint32Array, n: number, format: 'bf16' | 'f16'): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = packedAt(words, i, format);
  return out;
}
