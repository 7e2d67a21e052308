// docs/safetensors-checklist.md#must-accept (A01–A11): guards against over-rejecting, plus the reader's contract
// (offset order, lazy conversion, zero-copy vs copied views, unsupported dtypes, lookups).
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH } from '../../../src/io/safetensors/json';
import { DEFAULT_HEADER_CAP, MAX_HEADER_SIZE, readSafetensors, readSafetensorsBlob, SafetensorsError } from '../../../src/io/safetensors';
import { entry, expectStError, f32Bytes, stFile } from './build';

const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe('strict reader: MUST-ACCEPT (docs/safetensors-checklist.md)', () => {
  it('A01 {} padded with spaces to 8 bytes: no tensors, no metadata', () => {
    const f = readSafetensors(stFile('{}', 0, { pad: 6 }), 'empty.safetensors');
    expect(f.tensors.size).toBe(0);
    expect(f.metadata).toBeNull();
    expect(f.header.headerLength).toBe(8);
  });

  it('A02 zero-size tensors, two at one offset and one after real data', () => {
    const header = `{"e1":${entry('F32', [2, 0], [0, 0])},"e2":${entry('F32', [0], [0, 0])},` +
      `"a":${entry('F32', [2], [0, 8])},"e3":${entry('F16', [0, 5], [8, 8])}}`;
    const f = readSafetensors(stFile(header, f32Bytes([1, 2])));
    expect([...f.tensors.keys()].sort()).toEqual(['a', 'e1', 'e2', 'e3']);
    expect(f.get('e1').data.length).toBe(0);
    expect(f.get('e3').shape).toEqual([0, 5]);
    expect(Array.from(f.get('a').data)).toEqual([1, 2]);
  });

  it('A03 scalar: shape [] with 4 bytes of F32', () => {
    const f = readSafetensors(stFile(`{"s":${entry('F32', [], [0, 4])}}`, f32Bytes([3.5])));
    expect(f.get('s').shape).toEqual([]);
    expect(Array.from(f.get('s').data)).toEqual([3.5]);
  });

  it('A04 JSON whitespace before { and after }, and between tokens', () => {
    const header = ` \t\n\r{ "a" :\n${entry('F32', [2], [0, 8]).replace(/,/g, ' ,\t')} }\n \r\t`;
    const f = readSafetensors(stFile(header, f32Bytes([1, 2]), { pad: 3 }));
    expect(Array.from(f.get('a').data)).toEqual([1, 2]);
  });

  it('A05 header length not a multiple of 8: unaligned F32 is copied, aligned F32 is a view', () => {
    const header = `{"a":${entry('F32', [2], [0, 8])}}`;
    for (let pad = 0; pad < 8; pad++) {
      const bytes = stFile(header, f32Bytes([1.5, -2.25]), { pad });
      const t = readSafetensors(bytes).get('a');
      expect(Array.from(t.data), `pad ${pad}`).toEqual([1.5, -2.25]);
      const aligned = (8 + header.length + pad) % 4 === 0;
      expect(t.data.buffer === bytes.buffer, `pad ${pad}: view iff aligned`).toBe(aligned);
    }
  });

  it('A06 JSON key order differs from offset order: tensors come back in offset order', () => {
    const header = `{"b":${entry('F32', [1], [4, 8])},"a":${entry('F32', [1], [0, 4])}}`;
    const f = readSafetensors(stFile(header, f32Bytes([10, 20])));
    expect([...f.tensors.keys()]).toEqual(['a', 'b']);
    expect(f.get('b').data[0]).toBe(20);
  });

  it('A07 unknown fields in a tensor entry: accepted with a warning naming the tensor', () => {
    const header = `{"a":{"dtype":"F32","extra":{"k":[1,2.5,"x",null,true]},"shape":[1],"data_offsets":[0,4]}}`;
    const f = readSafetensors(stFile(header, 4), 'w.safetensors');
    expect(f.warnings).toEqual([expect.objectContaining({ code: 'ST_W_UNKNOWN_FIELD', tensor: 'a', file: 'w.safetensors' })]);
  });

  it(`A07 nesting in an unknown field is accepted up to ${MAX_DEPTH} levels in all, refused one deeper`, () => {
    // Levels: the header object (1), the tensor entry (2), then the unknown field's arrays.
    const field = (k: number) => `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":${'['.repeat(k)}${']'.repeat(k)}}}`;
    expect(readSafetensors(stFile(field(MAX_DEPTH - 2), 4)).tensors.size).toBe(1);
    expectStError(() => readSafetensors(stFile(field(MAX_DEPTH - 1), 4)), 'ST_HEADER_DEPTH');
  });

  it('A08 "__metadata__": null is no metadata; string metadata comes back as a Map', () => {
    expect(readSafetensors(stFile('{"__metadata__":null}')).metadata).toBeNull();
    const f = readSafetensors(stFile('{"__metadata__":{"format":"pt","x":"<script>\\"\\u00e9","__proto__":"p"}}'));
    expect([...(f.metadata ?? [])]).toEqual([['format', 'pt'], ['x', '<script>"é'], ['__proto__', 'p']]);
  });

  it('A09 names "", __proto__, constructor, escapes: stored in a Map, no prototype pollution', () => {
    const names = ['', '__proto__', 'constructor', 'toString', '\\u00e9t\\u00e9', '\\ud83d\\ude00', 'a\\/b', 'q\\"\\\\'];
    const header = `{${names.map((n, i) => `"${n}":${entry('F32', [1], [4 * i, 4 * i + 4])}`).join(',')}}`;
    const f = readSafetensors(stFile(header, 4 * names.length));
    expect([...f.tensors.keys()]).toEqual(['', '__proto__', 'constructor', 'toString', 'été', '😀', 'a/b', 'q"\\']);
    expect(f.get('__proto__').shape).toEqual([1]);
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  });

  it('A10 NaN and ±Inf in tensor data are legal in the file', () => {
    const f = readSafetensors(stFile(`{"a":${entry('F32', [3], [0, 12])}}`, f32Bytes([NaN, Infinity, -Infinity])));
    const d = f.get('a').data;
    expect(Number.isNaN(d[0])).toBe(true);
    expect([d[1], d[2]]).toEqual([Infinity, -Infinity]);
  });

  /** `count` contiguous one-element F32 entries (~85 header bytes each). */
  function manyTensors(count: number): Uint8Array<ArrayBuffer> {
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(`"model.layer.${i}.weight":${entry('F32', [1], [4 * i, 4 * i + 4])}`);
    return stFile(`{${parts.join(',')}}`, 4 * count);
  }

  // No timing assertion (timings never go in tests): the vitest timeout is the hang guard, and a
  // quadratic parser would blow far past it on 110,000 entries.
  it(`A11 a header just under the ${DEFAULT_HEADER_CAP / 1e6} MB app cap (110,000 entries) parses`, () => {
    const f = readSafetensors(manyTensors(110_000));
    expect(f.header.headerLength).toBeGreaterThan(0.9 * DEFAULT_HEADER_CAP);
    expect(f.tensors.size).toBe(110_000);
  }, 30_000);

  it('A11 above the app cap: ST_HEADER_TOO_LARGE naming both limits, unless maxHeaderBytes raises it', () => {
    const bytes = manyTensors(125_000);
    const err = expectStError(() => readSafetensors(bytes, 'big.safetensors'), 'ST_HEADER_TOO_LARGE');
    expect(err.message).toMatch(/header is 10\.\d MB; this app's limit is 10 MB \(the format allows 100 MB\)/);
    expect(readSafetensors(bytes, 'big.safetensors', { maxHeaderBytes: MAX_HEADER_SIZE }).tensors.size).toBe(125_000);
  });
});

describe('reader contract', () => {
  it('an unsupported but valid dtype loads as a file; its data is MODEL_DTYPE_UNSUPPORTED', () => {
    const f = readSafetensors(stFile(`{"pos":${entry('I64', [1], [0, 8])},"w":${entry('F32', [1], [8, 12])}}`, 12), 'ids.safetensors');
    expect(f.get('pos').supported).toBe(false);
    expect(f.get('w').supported).toBe(true);
    const err = expectStError(() => f.get('pos').data, 'MODEL_DTYPE_UNSUPPORTED');
    expect(err.tensor).toBe('pos');
    expect(err.message).toMatch(/I64.*supported: F32\/F16\/BF16/);
    expect(f.get('w').data.length).toBe(1);
  });

  it('conversion is lazy and cached', () => {
    const f = readSafetensors(stFile(`{"h":${entry('F16', [1], [0, 2])}}`, new Uint8Array([0x00, 0x3c])));
    const t = f.get('h');
    expect(t.data).toBe(t.data);
    expect(t.data[0]).toBe(1);
  });

  it('raw is a view on the file bytes; get() of an unknown name is ST_TENSOR_NOT_FOUND', () => {
    const bytes = stFile(`{"a":${entry('F32', [2], [0, 8])}}`, f32Bytes([1, 2]), { pad: 4 });
    const f = readSafetensors(bytes);
    expect(f.get('a').raw.buffer).toBe(bytes.buffer);
    expect(f.get('a').raw.byteLength).toBe(8);
    const err = expectStError(() => f.get('nope'), 'ST_TENSOR_NOT_FOUND');
    expect(err.tensor).toBe('nope');
  });

  it('reads a subarray of a larger buffer (Node Buffer pooling)', () => {
    const inner = stFile(`{"a":${entry('F32', [2], [0, 8])}}`, f32Bytes([7, 8]), { pad: 3 });
    const outer = concat(new Uint8Array(5), inner, new Uint8Array(9));
    const f = readSafetensors(outer.subarray(5, 5 + inner.length));
    expect(Array.from(f.get('a').data)).toEqual([7, 8]);
  });

  it('readSafetensorsBlob takes the name from a File and gives the same result', async () => {
    const bytes = stFile(`{"__metadata__":{"format":"pt"},"a":${entry('F32', [2], [0, 8])}}`, f32Bytes([1, 2]));
    const f = await readSafetensorsBlob(new File([bytes], 'model.safetensors'));
    expect(f.file).toBe('model.safetensors');
    expect(Array.from(f.get('a').data)).toEqual([1, 2]);
    expect(f.metadata?.get('format')).toBe('pt');
    await expect(readSafetensorsBlob(new File([bytes.subarray(0, 20)], 'cut.safetensors'))).rejects.toBeInstanceOf(SafetensorsError);
  });
});
