// safetensors dtypes (docs/formats.md#safetensors-layout) and their exact conversion to Float32.
// Project policy: F32, F16 and BF16 are read; every other valid dtype is "unsupported", a different error
// from "invalid file" (docs/failure-scenarios.md#a5).
import { SafetensorsError } from './errors';

/** Bits per element of every dtype the format defines (case-sensitive names). */
export const DTYPE_BITS = {
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E4M3: 8,
  F8_E5M2: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
} as const;

export type Dtype = keyof typeof DTYPE_BITS;
export type SupportedDtype = 'F32' | 'F16' | 'BF16';

// A Map, not `name in DTYPE_BITS`: header strings such as "constructor" must not hit Object.prototype.
const DTYPES = new Map<string, Dtype>(Object.keys(DTYPE_BITS).map((d) => [d, d as Dtype]));

export function isDtype(s: string): s is Dtype {
  return DTYPES.has(s);
}

/** The interned dtype string for `s` (so a million entries share one string), or undefined. */
export function canonicalDtype(s: string): Dtype | undefined {
  return DTYPES.get(s);
}

export function isSupportedDtype(d: Dtype): d is SupportedDtype {
  return d === 'F32' || d === 'F16' || d === 'BF16';
}

/** Typed-array views need native (little-endian) byte order; every browser engine is little-endian. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * IEEE binary16 bits → binary32 bits, exactly: subnormals are renormalised, ±Inf stays ±Inf, NaN keeps
 * its payload (shifted into the top of the f32 mantissa).
 */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 → 127
  if (mant === 0) return sign >>> 0;
  // Subnormal: value = mant · 2^-24. Shift the leading 1 into the implicit-bit position.
  let e = 113; // exponent of 2^-14 in f32 bias, decremented per shift
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** BF16 is the top half of an f32 (`u32 = bf16 << 16`). */
export function bf16BitsToF32Bits(b: number): number {
  return (b << 16) >>> 0;
}

/**
 * Converts one tensor's little-endian bytes to Float32. F32 at a 4-byte-aligned offset is returned as a
 * zero-copy view that aliases `raw`; unaligned F32 is copied (a typed-array view needs an aligned offset,
 * docs/failure-scenarios.md#a4). F16/BF16 always produce a fresh array.
 */
export function toFloat32(raw: Uint8Array, dtype: Dtype, file: string, tensor: string): Float32Array {
  switch (dtype) {
    case 'F32':
      return f32FromBytes(raw);
    case 'F16':
      return halfFromBytes(raw, f16BitsToF32Bits);
    case 'BF16':
      return halfFromBytes(raw, bf16BitsToF32Bits);
    default:
      throw new SafetensorsError(
        'MODEL_DTYPE_UNSUPPORTED',
        file,
        `dtype ${dtype} is not supported; supported: F32/F16/BF16`,
        { tensor },
      );
  }
}

function f32FromBytes(raw: Uint8Array): Float32Array {
  const n = raw.byteLength >>> 2;
  if (LITTLE_ENDIAN_HOST && raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
  if (LITTLE_ENDIAN_HOST) return new Float32Array(raw.slice().buffer, 0, n);
  const out = new Float32Array(n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

function halfFromBytes(raw: Uint8Array, widen: (bits: number) => number): Float32Array {
  const n = raw.byteLength >>> 1;
  const out = new Float32Array(n);
  // Write bit patterns through a Uint32 alias so NaN payloads survive (a number round trip may not).
  const bits = new Uint32Array(out.buffer);
  // The source is read byte by byte (little-endian by the format); `bits` and `out` share native order.
  for (let i = 0; i < n; i++) bits[i] = widen(raw[2 * i] | (raw[2 * i + 1] << 8));
  return out;
}
