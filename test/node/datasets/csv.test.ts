// CSV (RFC 4180): quoting, escaped quotes, newlines inside quotes, CRLF, header handling, ragged rows and the
// fatal unterminated quote, each with the line the user has to look at.
import { describe, expect, it } from 'vitest';
import { alpacaPrompt, parseCsvRecords, parseTextDataset } from '../../../src/io/datasets';
import { catchDatasetError, enc, fixtureBytes } from './helpers';

const records = (text: string) => parseCsvRecords(text, 't.csv', 1 << 20).map((r) => (r.error ? [r.line, r.fields, r.error] : [r.line, r.fields]));

describe('CSV records', () => {
  it('splits plain and quoted fields', () => {
    expect(records('a,b,c\n1,"2",3\n')).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', '2', '3']],
    ]);
  });

  it('unescapes doubled quotes and keeps commas and newlines inside quotes, counting lines', () => {
    expect(records('"say ""hi""","x,y","l1\nl2\nl3"\nnext,"",\n')).toEqual([
      [1, ['say "hi"', 'x,y', 'l1\nl2\nl3']],
      [4, ['next', '', '']],
    ]);
  });

  it('handles empty fields, a missing final newline and a trailing comma at EOF', () => {
    expect(records(',,\na,')).toEqual([
      [1, ['', '', '']],
      [2, ['a', '']],
    ]);
    expect(records('""')).toEqual([[1, ['']]]);
    expect(records('"a""b"')).toEqual([[1, ['a"b']]]);
  });

  it('skips blank lines but counts them', () => {
    expect(records('\n\na\n\nb')).toEqual([
      [3, ['a']],
      [5, ['b']],
    ]);
  });

  it('keeps a stray quote inside an unquoted field literally', () => {
    expect(records('ab"c,d\n')).toEqual([[1, ['ab"c', 'd']]]);
  });

  it('marks text after a closing quote as an error on that record only', () => {
    expect(records('"ab"c,d\ne,f\n')).toEqual([
      [1, ['abc', 'd'], 'unexpected text after the closing quote in column 1'],
      [2, ['e', 'f']],
    ]);
  });

  it('throws on an unterminated quote, naming the line where it opened and the column', () => {
    const e = catchDatasetError(() => parseCsvRecords('a,b\nc,d\ne,"never\nclosed\nat all\n', 'q.csv', 1 << 20));
    expect(e.code).toBe('DATA_CSV');
    expect(e.line).toBe(3);
    expect(e.message).toContain('q.csv, line 3');
    expect(e.message).toContain('column 2');
  });

  it('marks fields over the cap', () => {
    expect(parseCsvRecords('abcdef,x\n', 't.csv', 3)[0].error).toBe('field in column 1 has 6 characters (limit 3)');
  });
});

describe('CSV datasets', () => {
  it('reads Alpaca columns with CRLF, quotes and an empty input; rejects ragged rows with their line', () => {
    const ds = parseTextDataset(fixtureBytes('alpaca.csv'), 'alpaca.csv');
    expect(ds.format).toBe('csv');
    expect(ds.examples).toEqual([
      { prompt: alpacaPrompt('Summarise "the" text', 'Line one\nline two'), completion: 'Short, sweet.' },
      { prompt: alpacaPrompt('Name a colour'), completion: 'Blue' },
    ]);
    expect(ds.rejected).toEqual([{ file: 'alpaca.csv', line: 5, reason: 'row has 2 fields, the header has 3' }]);
  });

  it('prefers the text column; header names are trimmed and case-insensitive; other columns ignored', () => {
    const ds = parseTextDataset(enc('id, Text ,instruction,output\n1,hello,i,o\n2,"multi\nline",i,o\n'), 't.csv');
    expect(ds.examples).toEqual([
      { prompt: '', completion: 'hello' },
      { prompt: '', completion: 'multi\nline' },
    ]);
  });

  it('finds the header after a UTF-8 BOM', () => {
    expect(parseTextDataset(enc('\uFEFFtext\r\nhello\r\n'), 'bom.csv').examples).toEqual([{ prompt: '', completion: 'hello' }]);
  });

  it('works without an input column', () => {
    const ds = parseTextDataset(enc('output,instruction\nyes,Is it?\n'), 'a.csv');
    expect(ds.examples).toEqual([{ prompt: alpacaPrompt('Is it?'), completion: 'yes' }]);
  });

  it('rejects rows with an empty text, a bad quote or too many/few fields, each with its line', () => {
    const text = 'text,n\nok,1\n,2\n"a"b,3\nx\n"y",1,2\n"two\nlines",5\nlast,6\n';
    const ds = parseTextDataset(enc(text), 'r.csv');
    expect(ds.examples.map((e) => e.completion)).toEqual(['ok', 'two\nlines', 'last']);
    expect(ds.rejected.map((r) => `${r.line}: ${r.reason}`)).toEqual([
      '3: field "text" is empty',
      '4: unexpected text after the closing quote in column 1',
      '5: row has 1 fields, the header has 2',
      '6: row has 3 fields, the header has 2',
    ]);
  });

  it('fails naming the columns it found when none is usable', () => {
    const e = catchDatasetError(() => parseTextDataset(enc('question,answer\nq,a\n'), 'qa.csv'));
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.line).toBe(1);
    expect(e.message).toContain('"question", "answer"');
    expect(catchDatasetError(() => parseTextDataset(enc('instruction,input\nq,a\n'), 'i.csv')).message).toContain('"instruction", "input"');
  });

  it('fails on an unterminated quote with the line where it opened (CRLF input)', () => {
    const e = catchDatasetError(() => parseTextDataset(enc('text\r\nok\r\n"open\r\nmore\r\n'), 'u.csv'));
    expect(e.code).toBe('DATA_CSV');
    expect(e.line).toBe(3);
  });

  it('fails when every row is rejected, and when there are no rows', () => {
    const e = catchDatasetError(() => parseTextDataset(enc('text,n\na\nb\n'), 'bad.csv'));
    expect(e.code).toBe('DATA_CSV');
    expect(e.line).toBe(2);
    expect(catchDatasetError(() => parseTextDataset(enc('text\n'), 'h.csv')).code).toBe('DATA_EMPTY');
  });

  it('rejects fields over the record cap as rows', () => {
    const ds = parseTextDataset(enc(`text\n${'x'.repeat(20)}\nok\n`), 'c.csv', { maxRecordChars: 10 });
    expect(ds.examples).toEqual([{ prompt: '', completion: 'ok' }]);
    expect(ds.rejected).toEqual([{ file: 'c.csv', line: 2, reason: 'field in column 1 has 20 characters (limit 10)' }]);
  });
});
