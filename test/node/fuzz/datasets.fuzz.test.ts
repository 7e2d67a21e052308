// Property-based fuzzing of text dataset parsing (docs/failure-scenarios.md#datasets: B1–B3, B5, B6): the committed fixtures
// (test/fixtures/datasets) and generated files are damaged — bytes flipped, cut, non-UTF-8 sequences and
// BOMs inserted, JSONL rows replaced by mutated JSON, CSV structure characters sprinkled in. The contract:
// parseTextDataset returns a dataset with at least one example, every rejected row naming a real line,
// or throws a DatasetError — never another error type; bytes that are not UTF-8 are always DATA_UTF8
// (never silent U+FFFD corruption).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DatasetError, parseTextDataset, type TextDataset } from '../../../src/io/datasets';
import { applyBytes, applyTree, byteMutation, params, parseJ, stringify, treeMutation } from './json';

const NUM_RUNS = { mutants: 2000, jsonlRows: 1000, csv: 1000 } as const;
const SEED = { mutants: 0xda7a1, jsonlRows: 0xda7a2, csv: 0xda7a3 } as const;

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/datasets/${name}`, import.meta.url)));
const BASES = [
  { file: 'fortunes.txt', bytes: fixture('fortunes.txt') },
  { file: 'mixed.jsonl', bytes: fixture('mixed.jsonl') },
  { file: 'alpaca.csv', bytes: fixture('alpaca.csv') },
];
const CODES = ['DATA_TOO_LARGE', 'DATA_FORMAT', 'DATA_UTF8', 'DATA_JSONL', 'DATA_CSV', 'DATA_EMPTY'];
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(b: Uint8Array): boolean {
  try {
    strictUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Parses; fails the property on an untyped error or an inconsistent dataset. */
function probe(bytes: Uint8Array, file: string): TextDataset | DatasetError {
  let ds: TextDataset;
  try {
    ds = parseTextDataset(bytes, file);
  } catch (err) {
    if (!(err instanceof DatasetError)) throw new Error(`untyped error leaked: ${String(err)}`, { cause: err });
    expect(CODES, err.message).toContain(err.code);
    expect(err.message).toContain(file);
    if (!isUtf8(bytes)) expect(err.code, 'non-UTF-8 bytes must be refused as such').toBe('DATA_UTF8');
    return err;
  }
  expect(isUtf8(bytes), 'a file with invalid UTF-8 was accepted').toBe(true);
  expect(ds.examples.length).toBeGreaterThan(0);
  const lines = new TextDecoder().decode(bytes).split('\n').length;
  for (const r of ds.rejected) expect(Number.isInteger(r.line) && r.line >= 1 && r.line <= lines, `rejected line ${r.line} of ${lines}`).toBe(true);
  for (const ex of ds.examples) {
    expect(typeof ex.prompt === 'string' && typeof ex.completion === 'string').toBe(true);
    // No replacement character that the file did not contain.
    if (ex.completion.includes('\ufffd') || ex.prompt.includes('\ufffd')) expect(new TextDecoder().decode(bytes)).toContain('\ufffd');
  }
  return ds;
}

describe('text dataset fuzz (fast-check)', () => {
  it(`damaged fixture bytes: a dataset or a DatasetError; invalid UTF-8 always DATA_UTF8 (${NUM_RUNS.mutants} runs, seed ${SEED.mutants})`, () => {
    fc.assert(
      fc.property(fc.nat(BASES.length - 1), fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (k, ms) => {
        let b: Uint8Array = BASES[k].bytes;
        for (const m of ms) b = applyBytes(b, m);
        probe(b, BASES[k].file);
      }),
      params(SEED.mutants, NUM_RUNS.mutants),
    );
  });

  it(`JSONL rows replaced by mutated JSON (wrong types, __proto__, deep nesting) (${NUM_RUNS.jsonlRows} runs, seed ${SEED.jsonlRows})`, () => {
    const text = new TextDecoder().decode(BASES[1].bytes);
    const rows = text.split('\n');
    const objectRows = rows.filter((r) => r.startsWith('{'));
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.array(treeMutation(['text', 'instruction', 'input', 'output', '__proto__']), { minLength: 1, maxLength: 3 }), (row, src, ms) => {
        const holder = { root: parseJ(objectRows[src % objectRows.length]) };
        for (const m of ms) applyTree(holder, m);
        const out = [...rows];
        out[row % out.length] = stringify(holder.root);
        probe(new TextEncoder().encode(out.join('\n')), 'mixed.jsonl');
      }),
      params(SEED.jsonlRows, NUM_RUNS.jsonlRows),
    );
  });

  it(`CSV built from structure characters: quotes, commas, newlines, CRLF, BOM (${NUM_RUNS.csv} runs, seed ${SEED.csv})`, () => {
    const unit = fc.constantFrom('"', '""', ',', '\n', '\r\n', '\r', 'a', 'text', ' ', 'é', '\ufeff', 'instruction', 'output');
    fc.assert(
      fc.property(fc.constantFrom('text', 'instruction,input,output', 'instruction,output', '"text"', 'a,b'), fc.string({ unit, maxLength: 40 }), (header, body) => {
        probe(new TextEncoder().encode(`${header}\n${body}`), 'gen.csv');
      }),
      params(SEED.csv, NUM_RUNS.csv),
    );
  });
});
