// docs/safetensors-checklist.md#must-reject: one row per construction of R01–R34, each asserting the error class,
// the code, and the tensor name where one is involved. Every row runs through both entry points: bytes
// in memory and a Blob read in slices. R35 (GPU limits) is not a container error and is not tested here.
import { describe, expect, it } from 'vitest';
import { readSafetensors, readSafetensorsBlob, readSafetensorsHeader, SafetensorsError, type SafetensorsErrorCode } from '../../../src/io/safetensors';
import { entry, expectStError, expectStRejects, stFile } from './build';

interface Row {
  id: string;
  what: string;
  bytes: Uint8Array<ArrayBuffer>;
  code: SafetensorsErrorCode;
  /** The tensor the error must name (one of, for symmetric cases). */
  tensor?: string | string[];
  /** A fragment the message must contain, where no tensor is involved. */
  says?: string;
}

const A = entry('F32', [2], [0, 8]);
const one = (e: string) => `{"a":${e}}`;
const withField = (field: string) => one(`{"dtype":"F32","shape":[2],"data_offsets":[0,8],${field}}`);
const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

const ROWS: Row[] = [
  { id: 'R01', what: '0-byte file', bytes: new Uint8Array(0), code: 'ST_TOO_SMALL' },
  { id: 'R01', what: '7-byte file', bytes: new Uint8Array(7), code: 'ST_TOO_SMALL' },
  { id: 'R02', what: 'n = u64::MAX', bytes: stFile('{}', 0, { n: 2n ** 64n - 1n }), code: 'ST_HEADER_TOO_LARGE', says: 'limit is 100 MB' },
  { id: 'R02', what: 'n = 2^63', bytes: stFile('{}', 0, { n: 2n ** 63n }), code: 'ST_HEADER_TOO_LARGE' },
  { id: 'R03', what: 'n = 100,000,001', bytes: stFile('{}', 0, { n: 100_000_001n }), code: 'ST_HEADER_TOO_LARGE', says: '100.0 MB' },
  { id: 'R04', what: 'n = file.size − 8 + 1', bytes: stFile('{}', 0, { n: 3n }), code: 'ST_HEADER_LENGTH' },
  { id: 'R04', what: 'n = 100 with a 2-byte header', bytes: stFile('{}', 0, { n: 100n }), code: 'ST_HEADER_LENGTH' },
  { id: 'R05', what: 'header {\\xff}', bytes: stFile(bytes('{', [0xff], '}')), code: 'ST_HEADER_UTF8' },
  { id: 'R05', what: 'overlong encoding of "/"', bytes: stFile(bytes('{"', [0xc0, 0xaf], '":null}')), code: 'ST_HEADER_UTF8' },
  { id: 'R05', what: 'UTF-8-encoded surrogate', bytes: stFile(bytes('{"', [0xed, 0xa0, 0x80], '":null}')), code: 'ST_HEADER_UTF8' },
  { id: 'R06', what: 'n = 0 (empty header)', bytes: stFile(''), code: 'ST_HEADER_JSON' },
  { id: 'R07', what: 'truncated {', bytes: stFile('{'), code: 'ST_HEADER_JSON' },
  { id: 'R07', what: '{}{}', bytes: stFile('{}{}'), code: 'ST_HEADER_JSON' },
  { id: 'R07', what: 'trailing comma in the object', bytes: stFile(`{"a":${A},}`, 8), code: 'ST_HEADER_JSON' },
  { id: 'R07', what: 'trailing comma in shape', bytes: stFile(one(entry('F32', '[2,]', [0, 8])), 8), code: 'ST_HEADER_JSON', tensor: 'a' },
  { id: 'R07', what: '/*comment*/', bytes: stFile('/*c*/{}'), code: 'ST_HEADER_JSON' },
  { id: 'R07', what: 'NaN literal in shape', bytes: stFile(one(entry('F32', '[NaN]', [0, 8])), 8), code: 'ST_HEADER_JSON', tensor: 'a' },
  { id: 'R07', what: 'NaN literal in an unknown field', bytes: stFile(withField('"x":NaN'), 8), code: 'ST_HEADER_JSON', tensor: 'a' },
  // Found by the fuzz loop: a header ending inside a number once looped forever.
  { id: 'R07', what: 'header ends inside an integer', bytes: stFile('{"a":{"dtype":"F32","shape":[2'), code: 'ST_HEADER_JSON', tensor: 'a' },
  { id: 'R07', what: 'header ends inside a fraction', bytes: stFile('{"a":{"x":1.5'), code: 'ST_HEADER_JSON', tensor: 'a' },
  { id: 'R07', what: 'header ends inside an exponent', bytes: stFile('{"a":{"x":1e5'), code: 'ST_HEADER_JSON', tensor: 'a' },
  { id: 'R07', what: 'header ends after a minus sign', bytes: stFile('{"a":{"x":-'), code: 'ST_HEADER_JSON', tensor: 'a' },
  { id: 'R08', what: 'UTF-8 BOM before {', bytes: stFile(bytes([0xef, 0xbb, 0xbf], '{}')), code: 'ST_HEADER_JSON' },
  { id: 'R09', what: 'NUL padding', bytes: stFile(bytes('{}', [0, 0])), code: 'ST_HEADER_JSON', says: 'trailing characters' },
  { id: 'R10', what: 'top-level array', bytes: stFile('[]'), code: 'ST_HEADER_SCHEMA' },
  { id: 'R10', what: 'top-level string', bytes: stFile('"x"'), code: 'ST_HEADER_SCHEMA' },
  { id: 'R10', what: 'top-level number', bytes: stFile('12'), code: 'ST_HEADER_SCHEMA' },
  { id: 'R11', what: 'tensor entry null', bytes: stFile('{"a":null}'), code: 'ST_HEADER_SCHEMA', tensor: 'a' },
  { id: 'R11', what: 'tensor entry a number', bytes: stFile('{"a":1}'), code: 'ST_HEADER_SCHEMA', tensor: 'a' },
  { id: 'R11', what: 'tensor entry a string', bytes: stFile('{"a":"x"}'), code: 'ST_HEADER_SCHEMA', tensor: 'a' },
  { id: 'R12', what: 'missing dtype', bytes: stFile(one('{"shape":[2],"data_offsets":[0,8]}'), 8), code: 'ST_HEADER_SCHEMA', tensor: 'a' },
  { id: 'R12', what: 'missing shape', bytes: stFile(one('{"dtype":"F32","data_offsets":[0,8]}'), 8), code: 'ST_HEADER_SCHEMA', tensor: 'a' },
  { id: 'R12', what: 'missing data_offsets', bytes: stFile(one('{"dtype":"F32","shape":[2]}'), 8), code: 'ST_HEADER_SCHEMA', tensor: 'a' },
  { id: 'R13', what: 'dtype twice in one entry', bytes: stFile(withField('"dtype":"F32"'), 8), code: 'ST_DUPLICATE_KEY', tensor: 'a' },
  { id: 'R14', what: '__metadata__ twice', bytes: stFile(`{"__metadata__":{},"a":${A},"__metadata__":{}}`, 8), code: 'ST_DUPLICATE_KEY', says: '__metadata__' },
  { id: 'R15', what: '__metadata__ value a number', bytes: stFile(`{"__metadata__":{"x":1},"a":${A}}`, 8), code: 'ST_HEADER_SCHEMA', says: '__metadata__' },
  { id: 'R15', what: '__metadata__ an array', bytes: stFile(`{"__metadata__":["x"],"a":${A}}`, 8), code: 'ST_HEADER_SCHEMA', says: '__metadata__' },
  { id: 'R15', what: '__metadata__ nested', bytes: stFile(`{"__metadata__":{"x":{"y":"z"}},"a":${A}}`, 8), code: 'ST_HEADER_SCHEMA', says: '__metadata__' },
  { id: 'R15', what: 'a tensor named __metadata__', bytes: stFile(`{"__metadata__":${A}}`, 8), code: 'ST_HEADER_SCHEMA', says: '__metadata__' },
  { id: 'R16', what: 'dtype F128', bytes: stFile(one(entry('F128', [2], [0, 8])), 8), code: 'ST_DTYPE_INVALID', tensor: 'a' },
  { id: 'R16', what: 'dtype f32 (case)', bytes: stFile(one(entry('f32', [2], [0, 8])), 8), code: 'ST_DTYPE_INVALID', tensor: 'a' },
  { id: 'R16', what: 'dtype not a string', bytes: stFile(one('{"dtype":32,"shape":[2],"data_offsets":[0,8]}'), 8), code: 'ST_DTYPE_INVALID', tensor: 'a' },
  { id: 'R16', what: 'dtype "constructor"', bytes: stFile(one(entry('constructor', [2], [0, 8])), 8), code: 'ST_DTYPE_INVALID', tensor: 'a' },
  ...['-1', '2.0', '2e0', '"2"', 'null'].map((d): Row => ({
    id: 'R17', what: `shape entry ${d}`, bytes: stFile(one(entry('F32', `[${d}]`, [0, 8])), 8), code: 'ST_HEADER_SCHEMA', tensor: 'a',
  })),
  ...['[0]', '[0,4,8]', '{"a":0}', '[0,8.0]', '["0",8]', '[0,-8]'].map((o): Row => ({
    id: 'R18', what: `data_offsets ${o}`, bytes: stFile(one(entry('F32', [2], o)), 8), code: 'ST_HEADER_SCHEMA', tensor: 'a',
  })),
  { id: 'R19', what: 'offset 2^64', bytes: stFile(one(entry('F32', [2], '[0,18446744073709551616]')), 8), code: 'ST_OFFSET_RANGE', tensor: 'a' },
  { id: 'R19', what: 'offset 2^53 (divergence)', bytes: stFile(one(entry('F32', [2], '[0,9007199254740992]')), 8), code: 'ST_OFFSET_RANGE', tensor: 'a' },
  { id: 'R19', what: 'offset of 400 digits', bytes: stFile(one(entry('F32', [2], `[0,${'9'.repeat(400)}]`)), 8), code: 'ST_OFFSET_RANGE', tensor: 'a' },
  { id: 'R20', what: '200 nested arrays in an unknown field', bytes: stFile(withField(`"x":${'['.repeat(200)}${']'.repeat(200)}`), 8), code: 'ST_HEADER_DEPTH', tensor: 'a' },
  { id: 'R20', what: '200 nested objects in an unknown field', bytes: stFile(withField(`"x":${'{"k":'.repeat(200)}0${'}'.repeat(200)}`), 8), code: 'ST_HEADER_DEPTH', tensor: 'a' },
  { id: 'R20', what: 'duplicate key deep in an unknown field', bytes: stFile(withField('"x":[{"k":1,"k":2}]'), 8), code: 'ST_DUPLICATE_KEY', tensor: 'a' },
  { id: 'R21', what: 'lone high surrogate in a name', bytes: stFile(`{"\\ud800":${A}}`, 8), code: 'ST_HEADER_JSON' },
  { id: 'R21', what: 'lone low surrogate in a name', bytes: stFile(`{"\\udc00":${A}}`, 8), code: 'ST_HEADER_JSON' },
  { id: 'R21', what: 'high surrogate + non-surrogate escape', bytes: stFile(`{"\\ud800\\u0041":${A}}`, 8), code: 'ST_HEADER_JSON' },
  { id: 'R22', what: 'first tensor starts at 4', bytes: stFile(one(entry('F32', [1], [4, 8])), 8), code: 'ST_OFFSETS', tensor: 'a' },
  { id: 'R23', what: 'gap between tensors', bytes: stFile(`{"a":${A},"b":${entry('F32', [1], [12, 16])}}`, 16), code: 'ST_OFFSETS', tensor: 'b' },
  { id: 'R24', what: 'overlapping tensors', bytes: stFile(`{"a":${A},"b":${entry('F32', [1], [4, 8])}}`, 8), code: 'ST_OFFSETS', tensor: ['a', 'b'] },
  { id: 'R25', what: 'two names on one region', bytes: stFile(`{"a":${A},"b":${A}}`, 8), code: 'ST_OFFSETS', tensor: ['a', 'b'] },
  { id: 'R26', what: 'inverted offsets', bytes: stFile(one(entry('F32', [2], [8, 0])), 8), code: 'ST_OFFSETS', tensor: 'a' },
  { id: 'R27', what: 'F64 [4] over 16 bytes', bytes: stFile(one(entry('F64', [4], [0, 16])), 16), code: 'ST_SIZE_MISMATCH', tensor: 'a' },
  { id: 'R28', what: '1000×1000 F32 over 4 bytes', bytes: stFile(one(entry('F32', [1000, 1000], [0, 4])), 4), code: 'ST_SIZE_MISMATCH', tensor: 'a' },
  { id: 'R29', what: '[2, 2^63−1] I32', bytes: stFile(one(entry('I32', '[2,9223372036854775807]', [0, 8])), 8), code: 'ST_OVERFLOW', tensor: 'a' },
  { id: 'R29', what: '[2^32, 2^32] U8 over 0 bytes', bytes: stFile(one(entry('U8', [2 ** 32, 2 ** 32], [0, 0]))), code: 'ST_OVERFLOW', tensor: 'a' },
  { id: 'R29', what: '[2^63, 4, 0] (partial product overflows)', bytes: stFile(one(entry('U8', '[9223372036854775808,4,0]', [0, 0]))), code: 'ST_OVERFLOW', tensor: 'a' },
  { id: 'R29', what: 'dimension above u64', bytes: stFile(one(entry('U8', '[0,18446744073709551616]', [0, 0]))), code: 'ST_OVERFLOW', tensor: 'a' },
  { id: 'R30', what: 'F4 [3]', bytes: stFile(one(entry('F4', [3], [0, 2])), 2), code: 'ST_SUBBYTE', tensor: 'a' },
  { id: 'R31', what: 'trailing bytes', bytes: stFile(one(A), 9), code: 'ST_COVERAGE', says: '1 trailing bytes' },
  { id: 'R32', what: 'truncated by 1 byte', bytes: stFile(one(A), 7), code: 'ST_COVERAGE', tensor: 'a' },
  { id: 'R32', what: 'empty data section', bytes: stFile(one(A), 0), code: 'ST_COVERAGE', tensor: 'a' },
  { id: 'R33', what: 'duplicate name, different entries', bytes: stFile(`{"a":${A},"a":${entry('F32', [1], [0, 4])}}`, 8), code: 'ST_DUPLICATE_KEY', tensor: 'a' },
  { id: 'R34', what: 'duplicate name, identical entries', bytes: stFile(`{"a":${A},"a":${A}}`, 8), code: 'ST_DUPLICATE_KEY', tensor: 'a' },
  { id: 'R34', what: 'duplicate key inside __metadata__', bytes: stFile(`{"__metadata__":{"k":"v","k":"v"},"a":${A}}`, 8), code: 'ST_DUPLICATE_KEY', says: '"k"' },
];

function checkError(err: SafetensorsError, row: Row, file: string): void {
  expect(err).toBeInstanceOf(SafetensorsError);
  expect(err.file).toBe(file);
  expect(err.message).toContain(file);
  expect(err.message).toContain(row.code);
  if (row.tensor !== undefined) {
    const names = Array.isArray(row.tensor) ? row.tensor : [row.tensor];
    expect(names, err.message).toContain(err.tensor);
    expect(err.message).toContain(JSON.stringify(err.tensor));
  }
  if (row.says !== undefined) expect(err.message).toContain(row.says);
}

describe('strict reader: MUST-REJECT (docs/safetensors-checklist.md)', () => {
  it('covers every checklist id R01–R34', () => {
    const ids = new Set(ROWS.map((r) => r.id));
    for (let i = 1; i <= 34; i++) expect(ids, `R${String(i).padStart(2, '0')}`).toContain(`R${String(i).padStart(2, '0')}`);
  });

  it.each(ROWS)('$id $what → $code (in memory)', (row) => {
    checkError(expectStError(() => readSafetensors(row.bytes, 'bad.safetensors'), row.code), row, 'bad.safetensors');
  });

  it.each(ROWS)('$id $what → $code (Blob)', async (row) => {
    const err = await expectStRejects(readSafetensorsBlob(new Blob([row.bytes]), 'bad.safetensors'), row.code);
    checkError(err, row, 'bad.safetensors');
  });
});

describe('A2: the declared header length is judged from the first 8 bytes alone', () => {
  /** A Blob stand-in that records every byte range asked for. */
  function recordingBlob(size: number, prefix: Uint8Array) {
    const reads: [number, number][] = [];
    const blob = {
      size,
      name: 'huge.safetensors',
      slice(start: number, end: number) {
        reads.push([start, end]);
        const part = new Uint8Array(Math.max(0, end - start));
        part.set(prefix.subarray(start, Math.min(end, prefix.length)));
        return { arrayBuffer: async () => part.buffer };
      },
    };
    return { blob: blob as unknown as Blob, reads };
  }

  it.each([
    ['2^63', 2n ** 63n, 10_000_000_000, 'ST_HEADER_TOO_LARGE'],
    ['100,000,001', 100_000_001n, 10_000_000_000, 'ST_HEADER_TOO_LARGE'],
    ['5,000,000 on a 1 KB file', 5_000_000n, 1024, 'ST_HEADER_LENGTH'],
  ] as const)('n = %s: only bytes [0, 8) are read', async (_label, n, size, code) => {
    const { blob, reads } = recordingBlob(size, stFile('{}', 0, { n }));
    const err = await expectStRejects(readSafetensorsHeader(blob), code);
    expect(err.file).toBe('huge.safetensors');
    expect(reads).toEqual([[0, 8]]);
  });

  it('a read failure becomes MODEL_FILE_CHANGED (NotReadableError) or ST_READ', async () => {
    const failing = (name: string) =>
      ({
        size: 100,
        slice: () => ({
          arrayBuffer: async () => {
            throw Object.assign(new Error('gone'), { name });
          },
        }),
      }) as unknown as Blob;
    await expectStRejects(readSafetensorsHeader(failing('NotReadableError')), 'MODEL_FILE_CHANGED');
    await expectStRejects(readSafetensorsHeader(failing('Error')), 'ST_READ');
  });
});
