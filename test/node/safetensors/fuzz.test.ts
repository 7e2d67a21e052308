// Bounded, seeded property tests (docs/safetensors-checklist.md#conformance): structure-aware mutations
// of valid files and arbitrary byte strings must only ever produce SafetensorsError (with a known code,
// naming its tensor when it has one) or a file whose tensors all decode; nothing may hang. A failure
// message carries the seed, the iteration and the mutation path for replay.
import { describe, expect, it } from 'vitest';
import { quote } from '../../../src/io/safetensors/errors';
import { type F32Tensor, readSafetensors, SafetensorsError, type SafetensorsErrorCode, writeSafetensors } from '../../../src/io/safetensors';
import { mulberry32 } from '../../helpers/random';
import { entry, f32Bytes, stFile, u16Bytes } from './build';

const SEED = 0x5afe7e45;
const MUTANTS = 20_000;
const RANDOM_INPUTS = 5000;

const READ_CODES = new Set<SafetensorsErrorCode>([
  'ST_TOO_SMALL', 'ST_HEADER_TOO_LARGE', 'ST_HEADER_LENGTH', 'ST_HEADER_UTF8', 'ST_HEADER_JSON', 'ST_HEADER_SCHEMA',
  'ST_DUPLICATE_KEY', 'ST_DTYPE_INVALID', 'ST_OFFSET_RANGE', 'ST_HEADER_DEPTH', 'ST_OFFSETS', 'ST_OVERFLOW', 'ST_SUBBYTE',
  'ST_SIZE_MISMATCH', 'ST_COVERAGE',
]);

function corpus(): Uint8Array[] {
  const mixed =
    `{"__metadata__":{"format":"pt"},"h":${entry('F16', [3], [0, 6])},"b":${entry('BF16', [1], [6, 8])},` +
    `"i":{"dtype":"I64","shape":[1],"x":[{"k":null}],"data_offsets":[8,16]},"f":${entry('F32', [2], [16, 24])},` +
    `"e":${entry('F32', [0, 4], [24, 24])}}`;
  return [
    writeSafetensors([['wte.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }], ['b', { shape: [], data: Float32Array.from([7]) }]], { metadata: { step: '10' } }),
    writeSafetensors([], { metadata: null }),
    stFile(mixed, new Uint8Array([...u16Bytes([0x3c00, 0x7c00, 0x0001, 0x3f80]), ...new Uint8Array(8), ...f32Bytes([1, NaN])])),
    stFile(` \n{"a":${entry('F32', [1], [0, 4])}} `, 4, { pad: 1 }), // unaligned data
  ];
}

const TOKENS = ['{', '}', '[', ']', '"', ',', ':', '0', '7', '-', '.', 'e', ' ', '\\', '\\u', 'null', '\0', '\xff', '__metadata__', '18446744073709551616', '9007199254740993', '1e3', '"F4"', '"dtype"'];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

function headerSpan(b: Uint8Array): [number, number] {
  if (b.length < 8) return [0, b.length];
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  return [8, Math.min(b.length, 8 + (Number.isFinite(n) ? n : 0))];
}

/** Splices `insert` into the header in place of [at, at + del), keeping the length prefix in step. */
function spliceHeader(b: Uint8Array, at: number, del: number, insert: Uint8Array): Uint8Array {
  const [, end] = headerSpan(b);
  const out = new Uint8Array(b.length - del + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + del), at + insert.length);
  if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, end - 8 - del + insert.length)), true);
  return out;
}

const MUTATIONS: Record<string, (b: Uint8Array, r: Rand) => Uint8Array> = {
  flipBit: (b, r) => {
    const out = b.slice();
    if (out.length) out[int(r, out.length)] ^= 1 << int(r, 8);
    return out;
  },
  truncate: (b, r) => b.slice(0, int(r, b.length + 1)),
  extend: (b, r) => Uint8Array.from([...b, ...Array.from({ length: 1 + int(r, 16) }, () => int(r, 256))]),
  prefix: (b, r) => {
    const out = b.length >= 8 ? b.slice() : Uint8Array.from([...b, ...new Uint8Array(8 - b.length)]);
    const n = new DataView(out.buffer).getBigUint64(0, true);
    const choices = [n + 1n, n - 1n, n + BigInt(int(r, 9)), 0n, BigInt(int(r, 2 ** 32)), (BigInt(int(r, 2 ** 32)) << 32n) | 7n];
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, pick(r, choices)), true);
    return out;
  },
  insertToken: (b, r) => {
    const [start, end] = headerSpan(b);
    return spliceHeader(b, start + int(r, end - start + 1), 0, encodeLatin(pick(r, TOKENS)));
  },
  deleteChars: (b, r) => {
    const [start, end] = headerSpan(b);
    const at = start + int(r, end - start + 1);
    return spliceHeader(b, at, Math.min(end - at, 1 + int(r, 4)), new Uint8Array(0));
  },
  replaceDigits: (b, r) => {
    const [start, end] = headerSpan(b);
    const digits = [];
    for (let i = start; i < end; i++) if (b[i] >= 0x30 && b[i] <= 0x39) digits.push(i);
    if (!digits.length) return b;
    return spliceHeader(b, pick(r, digits), 1, encodeLatin(pick(r, ['18446744073709551616', '9007199254740993', '-1', '2.0', '1e3', '4294967296', '0', '99'])));
  },
  duplicateSlice: (b, r) => {
    const [start, end] = headerSpan(b);
    const a = start + int(r, end - start + 1);
    const z = a + int(r, Math.min(40, end - a) + 1);
    return spliceHeader(b, start + int(r, end - start + 1), 0, b.slice(a, z));
  },
};

/** Byte per char (so '\xff' stays one invalid-UTF-8 byte). */
function encodeLatin(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

/** Reads `bytes`; returns the error code, 'accepted', or a description of a contract violation. */
function probe(bytes: Uint8Array): string {
  try {
    const file = readSafetensors(bytes, 'fuzz.safetensors');
    for (const t of file.tensors.values()) {
      const raw = t.raw;
      if (raw.buffer !== bytes.buffer || raw.byteOffset + raw.byteLength > bytes.byteOffset + bytes.byteLength) return `VIOLATION: ${t.name} outside the file`;
      if (t.supported && t.data.length * (t.dtype === 'F32' ? 4 : 2) !== raw.byteLength) return `VIOLATION: ${t.name} decoded length`;
      if (!t.supported) expect(() => t.data).toThrow(SafetensorsError);
    }
    return 'accepted';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) return `VIOLATION: threw ${String(e)}`;
    if (!READ_CODES.has(e.code)) return `VIOLATION: unexpected code ${e.code}`;
    if (e.tensor !== undefined && !e.message.includes(quote(e.tensor))) return `VIOLATION: message lacks the tensor name: ${e.message}`;
    return e.code;
  }
}

describe('fuzz: only SafetensorsError, never a hang', () => {
  it(`${MUTANTS} structure-aware mutants of valid files (seed ${SEED})`, () => {
    const r = mulberry32(SEED);
    const base = corpus();
    for (const b of base) expect(probe(b)).toBe('accepted');
    const seen = new Map<string, number>();
    const names = Object.keys(MUTATIONS);
    for (let i = 0; i < MUTANTS; i++) {
      let bytes = pick(r, base);
      const path: string[] = [];
      for (let k = 1 + int(r, 3); k > 0; k--) {
        const m = pick(r, names);
        path.push(m);
        bytes = MUTATIONS[m](bytes, r);
      }
      const verdict = probe(bytes);
      if (verdict.startsWith('VIOLATION')) expect.fail(`seed ${SEED} iteration ${i} path ${path.join('>')}: ${verdict}`);
      seen.set(verdict, (seen.get(verdict) ?? 0) + 1);
    }
    // The mutators must reach deep into the checklist, not stop at the length prefix.
    expect(seen.get('accepted') ?? 0, JSON.stringify([...seen])).toBeGreaterThan(20);
    expect(seen.size, JSON.stringify([...seen])).toBeGreaterThanOrEqual(12); // 13 codes + accepted at this seed
  });

  it(`${RANDOM_INPUTS} arbitrary byte strings, half with a plausible length prefix`, () => {
    const r = mulberry32(SEED + 1);
    for (let i = 0; i < RANDOM_INPUTS; i++) {
      const len = int(r, 96);
      const bytes = Uint8Array.from({ length: len }, () => int(r, 256));
      if (len >= 8 && r() < 0.5) new DataView(bytes.buffer).setBigUint64(0, BigInt(int(r, len - 7)), true);
      const verdict = probe(bytes);
      if (verdict.startsWith('VIOLATION')) expect.fail(`seed ${SEED + 1} iteration ${i}: ${verdict}`);
    }
  });
});

describe('property: write → strict read is the identity', () => {
  it('300 seeded tensor sets with random names, shapes and bit patterns', () => {
    const r = mulberry32(SEED + 2);
    const alphabet = ['a', 'Z', '.', '_', '0', '9', 'é', '"', '\\', '\n', '😀', '\ue000', ' '];
    for (let i = 0; i < 300; i++) {
      const tensors = new Map<string, F32Tensor>();
      for (let k = int(r, 6); k > 0; k--) {
        const name = Array.from({ length: int(r, 8) }, () => pick(r, alphabet)).join('');
        if (name === '__metadata__') continue;
        const shape = Array.from({ length: int(r, 4) }, () => int(r, 5));
        const numel = shape.reduce((a, b) => a * b, 1);
        // Random finite bit patterns (subnormals and −0 included): exponent field never all ones.
        const bits = Uint32Array.from({ length: numel }, () => (int(r, 2 ** 32) & 0xff7fffff) >>> 0);
        tensors.set(name, { shape, data: new Float32Array(bits.buffer) });
      }
      const file = readSafetensors(writeSafetensors(tensors), `prop-${i}`);
      expect([...file.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [name, { shape, data }] of tensors) {
        const got = file.get(name);
        expect(got.shape).toEqual(shape);
        expect(new Uint32Array(got.data.buffer, got.data.byteOffset, got.data.length)).toEqual(new Uint32Array(data.buffer));
      }
    }
  });
});
