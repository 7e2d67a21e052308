// Steps 6–8 of the reference parse order (`Metadata::validate`, docs/safetensors-checklist.md#parse-order): regions sorted by
// offset must tile the data buffer exactly, each exactly as large as shape × dtype says, and the last
// one must end at the end of the file. Size arithmetic is exact: Number only while it stays below
// 2^53, BigInt beyond (a double would round silently, R29).
import { DTYPE_BITS, type Dtype } from './dtype';
import { quote, SafetensorsError } from './errors';

/** One tensor entry as read from the header, before layout validation. */
export interface RawEntry {
  name: string;
  dtype: Dtype;
  shape: (number | bigint)[];
  begin: number;
  end: number;
}

/** A validated tensor entry. `begin`/`end` are relative to the data buffer (file offset 8 + N). */
export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

const U64_MAX = (1n << 64n) - 1n;

/** Sorts `entries` in place by (begin, end) and validates them; returns them as TensorInfo. */
export function validateLayout(entries: RawEntry[], headerLength: number, fileSize: number, file: string): TensorInfo[] {
  // JSON order is irrelevant (A06); the reference sorts by (start, end) and so do we.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let start = 0;
  let prev: RawEntry | undefined;
  for (const e of entries) {
    if (e.begin !== start || e.end < e.begin) {
      throw new SafetensorsError('ST_OFFSETS', file, describeOffsetError(e, start, prev), { tensor: e.name });
    }
    start = e.end;
    prev = e;
    checkSize(e, file);
  }
  const expected = 8 + headerLength + start;
  if (expected !== fileSize) {
    const detail =
      expected > fileSize
        ? `the header describes data up to file byte ${expected}, but the file has ${fileSize} bytes ` +
          `(${expected - fileSize} missing)`
        : `${fileSize - expected} trailing bytes after the last tensor (data ends at file byte ${expected})`;
    const last = expected > fileSize ? entries[entries.length - 1]?.name : undefined;
    throw new SafetensorsError('ST_COVERAGE', file, detail, { tensor: last });
  }
  return entries as TensorInfo[];
}

function describeOffsetError(e: RawEntry, start: number, prev: RawEntry | undefined): string {
  const range = `data_offsets [${e.begin}, ${e.end}]`;
  if (e.end < e.begin) return `${range} are inverted (end before begin)`;
  if (!prev) return `${range}: the first tensor must start at 0`;
  const p = `${quote(prev.name)} [${prev.begin}, ${prev.end}]`;
  if (e.begin > start) return `${range} leave a ${e.begin - start}-byte gap after ${p}`;
  if (e.begin === prev.begin && e.end === prev.end) return `${range} is the same region as ${p}`;
  return `${range} overlap ${p}`;
}

/** Steps 7b–7d: numel × bits without overflow, a whole number of bytes, equal to end − begin. */
function checkSize(e: RawEntry, file: string): void {
  const bitsPer = DTYPE_BITS[e.dtype];
  const span = e.end - e.begin;
  const bits = exactBits(e, bitsPer, file);
  if (bits % 8n !== 0n) {
    throw new SafetensorsError('ST_SUBBYTE', file, `shape ${showShape(e.shape)} of ${e.dtype} is ${bits} bits, not a whole number of bytes`, {
      tensor: e.name,
    });
  }
  if (bits / 8n !== BigInt(span)) {
    throw new SafetensorsError(
      'ST_SIZE_MISMATCH',
      file,
      `shape ${showShape(e.shape)} of ${e.dtype} needs ${bits / 8n} bytes but data_offsets [${e.begin}, ${e.end}] span ${span}`,
      { tensor: e.name },
    );
  }
  // Every dimension is now bounded by the file size unless the tensor is empty; an empty tensor with a
  // dimension above 2^53−1 is legal in the reference but cannot be a JS number (documented divergence).
  const i = e.shape.findIndex((d) => typeof d === 'bigint');
  if (i >= 0) {
    throw new SafetensorsError('ST_OVERFLOW', file, `shape[${i}] = ${e.shape[i]} exceeds 2^53−1`, { tensor: e.name });
  }
}

/** product(shape) × bits with the reference's checked u64 arithmetic (every partial product checked). */
function exactBits(e: RawEntry, bitsPer: number, file: string): bigint {
  let n = 1;
  let i = 0;
  // Fast path: exact while the running product stays a safe integer.
  for (; i < e.shape.length; i++) {
    const d = e.shape[i];
    if (typeof d !== 'number' || n * d > Number.MAX_SAFE_INTEGER) break;
    n *= d;
  }
  let big = BigInt(n);
  for (; i < e.shape.length; i++) {
    big *= BigInt(e.shape[i]);
    if (big > U64_MAX) overflow(e, file);
  }
  const bits = big * BigInt(bitsPer);
  if (bits > U64_MAX) overflow(e, file);
  return bits;
}

function overflow(e: RawEntry, file: string): never {
  throw new SafetensorsError('ST_OVERFLOW', file, `shape ${showShape(e.shape)} of ${e.dtype} overflows 64-bit size arithmetic`, {
    tensor: e.name,
  });
}

function showShape(shape: (number | bigint)[]): string {
  const s = `[${shape.join(', ')}]`;
  return s.length > 80 ? `${s.slice(0, 77)}…]` : s;
}
