// CSV (RFC 4180; docs/failure-scenarios.md#b3): comma-separated, fields optionally in double quotes, "" for a quote
// inside quotes, newlines allowed inside quotes. The input arrives with CRLF already turned into LF. A
// header row is required. One pass over char codes: linear, no indexOf look-ahead that could go quadratic.
import { exampleFromFields, type TextExample } from './alpaca';
import { DatasetError, quoteShort, type Rejected } from './errors';
import type { ParsedRows } from './jsonl';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  fields: string[];
  /** Set when the record is malformed but the file can still be read past it. */
  error?: string;
}

/** Records of a CSV text; blank lines skipped. An unterminated quote is fatal: the rest of the file is one field. */
export function parseCsvRecords(text: string, file: string, maxFieldChars: number): CsvRecord[] {
  const out: CsvRecord[] = [];
  const n = text.length;
  const cur = { i: 0, line: 1 };
  while (cur.i < n) {
    if (text.charCodeAt(cur.i) === LF) {
      cur.i++;
      cur.line++;
      continue;
    }
    const rec: CsvRecord = { line: cur.line, fields: [] };
    for (;;) {
      const column = rec.fields.length + 1;
      let field = text.charCodeAt(cur.i) === QUOTE ? quotedField(text, file, cur, column, rec) : plainField(text, cur);
      if (field.length > maxFieldChars) {
        rec.error ??= `field in column ${column} has ${field.length} characters (limit ${maxFieldChars})`;
        field = '';
      }
      rec.fields.push(field);
      if (cur.i >= n) break;
      const c = text.charCodeAt(cur.i++);
      if (c === LF) {
        cur.line++;
        break;
      }
      if (cur.i >= n) {
        rec.fields.push(''); // a trailing comma at the very end of the file ends with an empty field
        break;
      }
    }
    out.push(rec);
  }
  return out;
}

/** Characters up to the next comma or newline. A stray quote inside is kept literally (as Python's csv). */
function plainField(text: string, cur: { i: number }): string {
  const start = cur.i;
  let j = start;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === COMMA || c === LF) break;
  }
  cur.i = j;
  return text.slice(start, j);
}

function quotedField(text: string, file: string, cur: { i: number; line: number }, column: number, rec: CsvRecord): string {
  const openLine = cur.line;
  const start = cur.i + 1;
  let doubled = false;
  let j = start;
  for (;;) {
    if (j >= text.length) {
      throw new DatasetError('DATA_CSV', file, `unterminated quoted field (column ${column}): the quote opened on this line is never closed`, openLine);
    }
    const c = text.charCodeAt(j);
    if (c === QUOTE) {
      if (text.charCodeAt(j + 1) !== QUOTE) break;
      doubled = true; // "" inside quotes is one literal quote
      j += 2;
      continue;
    }
    if (c === LF) cur.line++;
    j++;
  }
  let field = text.slice(start, j);
  if (doubled) field = field.replace(/""/g, '"');
  cur.i = j + 1;
  const next = text.charCodeAt(cur.i);
  if (cur.i < text.length && next !== COMMA && next !== LF) {
    rec.error ??= `unexpected text after the closing quote in column ${column}`;
    field += plainField(text, cur);
  }
  return field;
}

/** Examples from CSV text: column `text`, else the Alpaca columns `instruction`, `input` (optional), `output`. */
export function parseCsv(text: string, file: string, maxFieldChars: number): ParsedRows {
  const records = parseCsvRecords(text, file, maxFieldChars);
  if (records.length === 0) return { examples: [], rejected: [] };
  const header = records[0];
  if (header.error) throw new DatasetError('DATA_CSV', file, `bad header row: ${header.error}`, header.line);
  const names = header.fields.map((h) => h.trim().toLowerCase());
  const col = new Map<string, number>();
  names.forEach((name, k) => {
    if (!col.has(name)) col.set(name, k);
  });
  const usable = col.has('text') || (col.has('instruction') && col.has('output'));
  if (!usable) {
    const found = header.fields.map((h) => quoteShort(h)).join(', ');
    throw new DatasetError('DATA_FORMAT', file, `the header needs a "text" column, or "instruction" and "output" columns (optional "input"); found columns: ${found}`, header.line);
  }
  const wanted = col.has('text') ? ['text'] : ['instruction', 'input', 'output'];
  const examples: TextExample[] = [];
  const rejected: Rejected[] = [];
  for (let r = 1; r < records.length; r++) {
    const { line, fields, error } = records[r];
    let reason: string | TextExample;
    if (error) reason = error;
    else if (fields.length !== header.fields.length) reason = `row has ${fields.length} fields, the header has ${header.fields.length}`;
    else {
      reason = exampleFromFields((name) => {
        const k = col.get(name);
        return k === undefined || !wanted.includes(name) ? undefined : fields[k];
      });
    }
    if (typeof reason === 'string') rejected.push({ file, line, reason });
    else examples.push(reason);
  }
  return { examples, rejected };
}
