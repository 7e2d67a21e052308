// The merged export's precision (docs/formats.md#export-precision): F32 by default; BF16 or F16 round the
// F32 merge once, to nearest with ties to even (torch's `tensor.to(torch.bfloat16 / float16)`). Merging in
// the half type itself would drop every delta below one ulp of the weight; rounding the F32 merge once
// keeps each element's nearest half value, and the tally below says how much of the update survived.
import { ExportError } from './errors';

export type ExportDtype = 'F32' | 'BF16' | 'F16';
export const EXPORT_DTYPES: readonly ExportDtype[] = ['F32', 'BF16', 'F16'];

/** config.json's torch_dtype for each export dtype. */
export const TORCH_DTYPE: Record<ExportDtype, string> = { F32: 'float32', BF16: 'bfloat16', F16: 'float16' };

/** Bytes per element on disk. */
export const DTYPE_BYTES: Record<ExportDtype, number> = { F32: 4, BF16: 2, F16: 2 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** BF16 bits of the nearest BF16 to an f32 (ties to even); NaN stays a quiet NaN. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  // Adding 0x7fff plus the kept half's lowest bit carries into the upper half exactly when the
  // dropped half is above a tie, or a tie with an odd kept half.
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Round half to even on a double that holds an exact multiple of 2⁻³⁰ or so (no overflow concerns). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** IEEE binary16 bits of the nearest half to an f32 (ties to even); beyond 65504 (after rounding) → ±Inf. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const a = Math.abs(f32[0]);
  if (Number.isNaN(a)) return sign | 0x7e00;
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal: a multiple of 2⁻²⁴; 1024 units round up into the smallest normal, whose bits are 0x400.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let e = ((bits >>> 23) & 0xff) - 127;
  let mant = roundHalfEven((a / 2 ** e - 1) * 1024); // exact: a / 2^e has 24 significant bits
  if (mant === 1024) { mant = 0; e++; }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | mant;
}

/** The half bits of every element, and the values they stand for (as F32). */
export function roundTensor(dtype: Exclude<ExportDtype, 'F32'>, data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  const round = dtype === 'BF16' ? f32ToBf16Bits : f32ToF16Bits;
  for (let i = 0; i < data.length; i++) out[i] = round(data[i]);
  return out;
}

/**
 * One tensor's bytes in the export dtype (little-endian). F32 data is checked finite by the caller; a value
 * that overflows the half type (F16 above 65504, BF16 above 3.39e38) is refused here, naming the tensor.
 */
export function exportTensorBytes(dtype: Exclude<ExportDtype, 'F32'>, data: Float32Array, file: string, tensor: string): Uint8Array {
  const bits = roundTensor(dtype, data);
  const inf = dtype === 'BF16' ? 0x7f80 : 0x7c00;
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7fff) >= inf) {
      throw new ExportError('EXPORT_NONFINITE', file, `element ${i} (${data[i]}) overflows ${dtype}; export in F32${dtype === 'F16' ? ' or BF16' : ''}`, { tensor });
    }
  }
  // Every browser engine and Node on x86/ARM is little-endian: the Uint16Array's bytes are the file's.
  return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
}

const decode = { BF16: (b: number) => { u32[0] = b << 16; return f32[0]; }, F16: (b: number) => halfValue(b) };

function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** How much of the update survived the rounding: over every element the merge changed. */
export interface RoundingFigure {
  dtype: Exclude<ExportDtype, 'F32'>;
  /** Elements whose merged F32 value differs from the base's F32 value. */
  changed: number;
  /** Of those, the elements whose rounded merged value differs from the rounded base value. */
  survived: number;
  /** survived / changed (1 when nothing changed). */
  survivedFraction: number;
  /** ‖(round(W') − round(W)) − (W' − W)‖₂ / ‖W' − W‖₂ over the changed elements (0 when nothing changed). */
  deltaRelError: number;
}

/** Accumulates the figure tensor by tensor, as the export streams them. */
export class RoundingTally {
  private changed = 0;
  private survived = 0;
  private deltaSq = 0;
  private errSq = 0;

  constructor(readonly dtype: Exclude<ExportDtype, 'F32'>) {}

  /** `base` the loaded (unmerged) values, `merged` the F32 merge, `rounded` the half bits written. */
  add(base: Float32Array, merged: Float32Array, rounded: Uint16Array): void {
    const round = this.dtype === 'BF16' ? f32ToBf16Bits : f32ToF16Bits;
    const value = decode[this.dtype];
    for (let i = 0; i < merged.length; i++) {
      const d = merged[i] - base[i];
      if (d === 0) continue;
      this.changed++;
      const rb = round(base[i]);
      if (rounded[i] !== rb) this.survived++;
      const e = value(rounded[i]) - value(rb) - d;
      this.deltaSq += d * d;
      this.errSq += e * e;
    }
  }

  figure(): RoundingFigure {
    return {
      dtype: this.dtype, changed: this.changed, survived: this.survived,
      survivedFraction: this.changed === 0 ? 1 : this.survived / this.changed,
      deltaRelError: this.deltaSq === 0 ? 0 : Math.sqrt(this.errSq / this.deltaSq),
    };
  }
}

/** Parses a user's dtype (CLI flag, studio select); undefined for anything else. */
export function parseExportDtype(s: string): ExportDtype | undefined {
  const u = s.toUpperCase();
  return u === 'F32' || u === 'FLOAT32' ? 'F32' : u === 'BF16' || u === 'BFLOAT16' ? 'BF16' : u === 'F16' || u === 'FLOAT16' ? 'F16' : undefined;
}
