// Text datasets: .txt / .jsonl parsing, strict UTF-8 with the offset of the first bad byte, size caps,
// rejections with line numbers, Alpaca templates, and script payloads passing through as plain data.
import { describe, expect, it } from 'vitest';
import { ALPACA_PROMPT_INPUT, ALPACA_PROMPT_NO_INPUT, alpacaPrompt, firstInvalidUtf8, parseTextDataset } from '../../../src/io/datasets';
import { XSS, catchDatasetError, enc, fixtureBytes } from './helpers';

describe('txt', () => {
  it('is one example: BOM stripped, CRLF → LF, prompt empty', () => {
    const ds = parseTextDataset(fixtureBytes('fortunes.txt'), 'fortunes.txt');
    expect(ds).toEqual({
      kind: 'text',
      file: 'fortunes.txt',
      format: 'txt',
      examples: [{ prompt: '', completion: 'You will meet a tall dark stranger.\nFortune favours the bold.\n' }],
      rejected: [],
    });
  });

  it('accepts an ArrayBuffer and an upper-case extension', () => {
    const b = enc('héllo wörld');
    const ab = new ArrayBuffer(b.length);
    new Uint8Array(ab).set(b);
    const ds = parseTextDataset(ab, 'NOTES.TXT');
    expect(ds.format).toBe('txt');
    expect(ds.examples[0].completion).toBe('héllo wörld');
  });

  it('keeps a lone CR and only strips one leading BOM', () => {
    const ds = parseTextDataset(enc('\uFEFF\uFEFFa\rb'), 'a.txt');
    expect(ds.examples[0].completion).toBe('\uFEFFa\rb');
  });

  it('reports the byte offset and line of the first invalid UTF-8 byte', () => {
    const bytes = new Uint8Array([...enc('ok line\nsecond é line\nthird '), 0xc3, 0x28, ...enc(' tail')]);
    const e = catchDatasetError(() => parseTextDataset(bytes, 'bad.txt'));
    expect(e.code).toBe('DATA_UTF8');
    expect(e.line).toBe(3);
    expect(e.file).toBe('bad.txt');
    const offset = enc('ok line\nsecond é line\nthird ').length;
    expect(e.message).toContain(`byte offset ${offset}`);
    expect(e.message).toContain('bad.txt, line 3');
    expect(e.message).toContain('0xc3');
  });

  it.each([
    ['lone continuation byte', [0x41, 0x80], 1],
    ['overlong 2-byte', [0x41, 0x42, 0xc0, 0xaf], 2],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf], 0],
    ['UTF-16 surrogate', [0x41, 0xed, 0xa0, 0x80], 1],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['truncated at end', [0x41, 0xe2, 0x82], 1],
    ['invalid lead 0xff', [0x41, 0x41, 0x41, 0xff], 3],
  ])('finds the first bad byte: %s', (_name, bytes, at) => {
    expect(firstInvalidUtf8(new Uint8Array(bytes))).toBe(at);
    expect(() => parseTextDataset(new Uint8Array(bytes), 'x.txt')).toThrow(`byte offset ${at}`);
  });

  it('accepts every valid sequence length', () => {
    const b = enc('a é € 😀 \u{10FFFF} \uD7FF \uE000');
    expect(firstInvalidUtf8(b)).toBe(-1);
  });

  it('refuses an empty or whitespace-only file', () => {
    expect(catchDatasetError(() => parseTextDataset(enc(' \n\n '), 'e.txt')).code).toBe('DATA_EMPTY');
    expect(catchDatasetError(() => parseTextDataset(new Uint8Array(0), 'e.jsonl')).code).toBe('DATA_EMPTY');
  });

  it('reads a file with an unknown extension as plain text when it is valid UTF-8 (issue 14 item 6)', () => {
    for (const name of ['LICENSE', 'README', 'notes.md', 'data.log', 'data.json', 'x.tsv']) {
      const ds = parseTextDataset(enc('Permission is hereby granted, ünïcode ✓\r\n'), name);
      expect(ds.format).toBe('txt');
      expect(ds.file).toBe(name);
      expect(ds.examples).toEqual([{ prompt: '', completion: 'Permission is hereby granted, ünïcode ✓\n' }]);
    }
  });

  it('refuses an unknown extension holding invalid UTF-8, naming the file and the byte offset', () => {
    // A gzip header: 0x1f 0x8b — 0x8b is a continuation byte with no lead byte.
    const e = catchDatasetError(() => parseTextDataset(new Uint8Array([0x1f, 0x8b, 0x08, 0x00]), 'data.txt.gz'));
    expect(e.code).toBe('DATA_UTF8');
    expect(e.message).toContain('data.txt.gz');
    expect(e.message).toContain('byte offset 1 (byte 0x8b)');
    const lic = catchDatasetError(() => parseTextDataset(new Uint8Array([...enc('MIT License\n'), 0xff]), 'LICENSE'));
    expect(lic.code).toBe('DATA_UTF8');
    expect(lic.message).toContain('LICENSE, line 2: invalid UTF-8 at byte offset 12');
  });

  it('parses as the format given, whatever the name (the CLI\'s --format)', () => {
    const rows = enc('{"text":"one"}\n{"text":"two"}\n');
    expect(parseTextDataset(rows, 'rows.log', { format: 'jsonl' }).examples.map((e) => e.completion)).toEqual(['one', 'two']);
    expect(parseTextDataset(rows, 'rows.log').examples).toHaveLength(1);
    const csv = parseTextDataset(enc('text\nalpha\nbeta\n'), 'table.txt', { format: 'csv' });
    expect([csv.format, csv.examples.length]).toEqual(['csv', 2]);
    expect(parseTextDataset(enc('text\nalpha\n'), 'table.csv', { format: 'txt' }).examples).toHaveLength(1);
  });

  it('refuses files over the size cap, naming sizes', () => {
    const e = catchDatasetError(() => parseTextDataset(new Uint8Array(2048), 'big.txt', { maxBytes: 1024 }));
    expect(e.code).toBe('DATA_TOO_LARGE');
    expect(e.message).toContain('2048 bytes');
    expect(e.message).toContain('1024 bytes');
    expect(parseTextDataset(enc('x'.repeat(1024)), 'ok.txt', { maxBytes: 1024 }).examples).toHaveLength(1);
  });
});

describe('jsonl', () => {
  it('parses text and Alpaca rows, rejecting bad lines with their line numbers', () => {
    const ds = parseTextDataset(fixtureBytes('mixed.jsonl'), 'mixed.jsonl');
    expect(ds.format).toBe('jsonl');
    expect(ds.examples).toEqual([
      {
        prompt: alpacaPrompt('Give three tips for staying healthy.'),
        completion: '1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well.',
      },
      { prompt: alpacaPrompt('Translate to French.', 'Good morning'), completion: 'Bonjour' },
      { prompt: '', completion: 'A plain line of text with "quotes" and <b>tags</b>.' },
    ]);
    expect(ds.rejected.map((r) => [r.file, r.line])).toEqual([
      ['mixed.jsonl', 4],
      ['mixed.jsonl', 5],
    ]);
    expect(ds.rejected[0].reason).toBe('field "output" must be a string, got number');
    expect(ds.rejected[1].reason).toMatch(/^invalid JSON/);
  });

  it('rejects every kind of bad line with a reason naming the field', () => {
    const lines = [
      '{"text": "good"}',
      '[1, 2]',
      '"a string"',
      'null',
      '{"txt": "typo"}',
      '{"text": 5}',
      '{"text": "   "}',
      '{"instruction": "x"}',
      '{"output": "y"}',
      '{"instruction": "x", "output": ""}',
      '{"instruction": "x", "output": "y", "input": 3}',
      '{"instruction": ["x"], "output": "y"}',
      '{"text": "trailing comma",}',
      '{"instruction": "x", "output": "y", "input": null}',
    ];
    const ds = parseTextDataset(enc(lines.join('\r\n') + '\r\n'), 'rows.jsonl');
    expect(ds.examples).toEqual([{ prompt: '', completion: 'good' }, { prompt: alpacaPrompt('x'), completion: 'y' }]);
    expect(ds.rejected.map((r) => `${r.line}: ${r.reason}`)).toEqual([
      '2: not a JSON object (got array)',
      '3: not a JSON object (got string)',
      '4: not a JSON object (got null)',
      '5: missing field "text" (or "instruction" and "output")',
      '6: field "text" must be a string, got number',
      '7: field "text" is empty',
      '8: missing field "output"',
      '9: missing field "instruction"',
      '10: field "output" is empty',
      '11: field "input" must be a string, got number',
      '12: field "instruction" must be a string, got array',
      expect.stringMatching(/^13: invalid JSON/),
    ]);
  });

  it('skips blank lines without shifting line numbers', () => {
    const ds = parseTextDataset(enc('\n  \n{"text":"a"}\n\n{bad\n'), 'b.jsonl');
    expect(ds.examples).toHaveLength(1);
    expect(ds.rejected).toEqual([{ file: 'b.jsonl', line: 5, reason: expect.stringMatching(/^invalid JSON/) }]);
  });

  it('fails when every line is rejected, naming the first bad line', () => {
    const e = catchDatasetError(() => parseTextDataset(enc('\n{"a":1}\n[]\n'), 'all-bad.jsonl'));
    expect(e.code).toBe('DATA_JSONL');
    expect(e.line).toBe(2);
    expect(e.message).toContain('all-bad.jsonl, line 2');
    expect(e.message).toContain('all 2 rows were rejected');
  });

  it('treats __proto__ and constructor as plain keys (no prototype pollution, no inherited fields)', () => {
    const ds = parseTextDataset(
      enc('{"__proto__": {"text": "polluted"}, "constructor": "c"}\n{"__proto__": {"polluted": true}, "text": "ok"}\n'),
      'proto.jsonl',
    );
    expect(ds.examples).toEqual([{ prompt: '', completion: 'ok' }]);
    expect(ds.rejected[0].line).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).text).toBeUndefined();
  });

  it('rejects lines over the record cap', () => {
    const ds = parseTextDataset(enc(`{"text":"${'x'.repeat(100)}"}\n{"text":"ok"}`), 'cap.jsonl', { maxRecordChars: 50 });
    expect(ds.examples).toEqual([{ prompt: '', completion: 'ok' }]);
    expect(ds.rejected).toEqual([{ file: 'cap.jsonl', line: 1, reason: 'line has 111 characters (limit 50)' }]);
  });
});

describe('alpaca template', () => {
  it('is Stanford Alpaca PROMPT_DICT, verbatim', () => {
    expect(ALPACA_PROMPT_NO_INPUT).toBe(
      'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:',
    );
    expect(ALPACA_PROMPT_INPUT).toBe(
      'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:',
    );
  });

  it('substitutes literally (no $-patterns, placeholders inside values stay)', () => {
    const p = alpacaPrompt("$& $' {input}", '$1 {instruction}');
    expect(p).toContain("### Instruction:\n$& $' {input}\n\n### Input:\n$1 {instruction}\n\n### Response:");
    expect(alpacaPrompt('x', '')).toBe(alpacaPrompt('x'));
  });
});

describe('script payloads are plain data', () => {
  it.each(XSS)('%s passes through txt, jsonl and csv unchanged', (payload) => {
    const txt = parseTextDataset(enc(`a ${payload} b`), `${payload}.txt`);
    expect(txt.examples[0].completion).toBe(`a ${payload} b`);
    expect(txt.file).toBe(`${payload}.txt`);
    const jl = parseTextDataset(enc(JSON.stringify({ instruction: payload, input: payload, output: payload }) + '\n'), 'x.jsonl');
    expect(jl.examples[0]).toEqual({ prompt: alpacaPrompt(payload, payload), completion: payload });
    const csv = parseTextDataset(enc(`text\n"${payload.replace(/"/g, '""')}"\n`), 'x.csv');
    expect(csv.examples[0].completion).toBe(payload);
  });

  it('a rejected row with a payload reports it only inside the reason text', () => {
    const ds = parseTextDataset(enc(`{"text":"ok"}\n${XSS[1]}\n`), 'x.jsonl');
    expect(ds.rejected[0].line).toBe(2);
    expect(typeof ds.rejected[0].reason).toBe('string');
  });
});

describe('size', () => {
  it('parses 10 MB single-line txt, jsonl and csv files (linear-time parsers)', () => {
    const big = 'lorem ipsum, "dolor" sit amet '.repeat(350_000); // ≈ 10.5 MB, one line
    expect(parseTextDataset(enc(big), 'big.txt').examples[0].completion).toHaveLength(big.length);
    expect(parseTextDataset(enc(JSON.stringify({ text: big })), 'big.jsonl').examples[0].completion).toBe(big);
    const csv = parseTextDataset(enc(`text\n"${big.replace(/"/g, '""')}"`), 'big.csv');
    expect(csv.examples[0].completion).toBe(big);
    const noCommas = 'x'.repeat(5_000_000);
    expect(parseTextDataset(enc(`text\n${noCommas}\n`), 'plain.csv').examples[0].completion).toBe(noCommas);
    const manyLines = 'text\nok\n' + 'a,\n'.repeat(200_000);
    expect(parseTextDataset(enc(manyLines), 'ragged.csv', {}).rejected).toHaveLength(200_000);
  });
});
