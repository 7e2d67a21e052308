// Text datasets for language modelling: .txt (the whole file is one text), .jsonl and .csv (one example per
// row: plain text or Alpaca instruction/input/output). One entry point, parseTextDataset; everything is
// decoded as strict UTF-8 first (BOM stripped, CRLF → LF), so the row parsers see LF-only text.
import type { ChatRow } from '../chat/sequences';
import type { TextExample } from './alpaca';
import { parseCsv } from './csv';
import { DatasetError, type Rejected } from './errors';
import { parseJsonl, type ParsedRows } from './jsonl';
import { decodeDatasetText } from './utf8';

export type TextFormat = 'txt' | 'jsonl' | 'csv';

export interface TextDataset {
  kind: 'text';
  file: string;
  format: TextFormat;
  examples: TextExample[];
  /** A chat .jsonl (rows with "messages" or "conversations"): its conversations; `examples` is then empty. */
  chats?: ChatRow[];
  /** Rows that were skipped, with line and reason; the UI shows the count and lets the user abort (B2). */
  rejected: Rejected[];
}

export interface TextParseOptions {
  /** Largest accepted file, in bytes (default 512 MiB). */
  maxBytes?: number;
  /** Longest JSONL line or CSV field, in characters (default 64 Mi); longer rows are rejected. */
  maxRecordChars?: number;
  /** The format to parse as, overriding the guess from the file name (the CLI's --format). */
  format?: TextFormat;
}

export const DEFAULT_MAX_DATASET_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_RECORD_CHARS = 64 * 1024 * 1024;

/** The format implied by a file name's extension (case-insensitive), or null (then: plain text). */
export function textFormatOf(fileName: string): TextFormat | null {
  const m = /\.([A-Za-z0-9]+)$/.exec(fileName);
  const ext = m ? m[1].toLowerCase() : '';
  return ext === 'txt' || ext === 'jsonl' || ext === 'csv' ? ext : null;
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function parseTextDataset(bytes: Uint8Array | ArrayBuffer, fileName: string, opts: TextParseOptions = {}): TextDataset {
  // A name without a known extension (LICENSE, README, notes.md, data.log) is read as plain text: users
  // expect any UTF-8 text to train. Binary files still fail below, as invalid UTF-8 with its byte offset.
  const format = opts.format ?? textFormatOf(fileName) ?? 'txt';
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  if (b.byteLength > maxBytes) {
    throw new DatasetError('DATA_TOO_LARGE', fileName, `the file is ${mib(b.byteLength)} (${b.byteLength} bytes); the limit is ${mib(maxBytes)} (${maxBytes} bytes)`);
  }
  const text = decodeDatasetText(b, fileName);
  const maxRecord = opts.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  let rows: ParsedRows;
  if (format === 'txt') rows = { examples: text.trim() === '' ? [] : [{ prompt: '', completion: text }], rejected: [] };
  else if (format === 'jsonl') rows = parseJsonl(text, fileName, maxRecord);
  else rows = parseCsv(text, fileName, maxRecord);
  if (rows.examples.length === 0 && (rows.chats?.length ?? 0) === 0) throw emptyError(fileName, format, rows.rejected);
  const ds: TextDataset = { kind: 'text', file: fileName, format, examples: rows.examples, rejected: rows.rejected };
  if (rows.chats !== undefined) ds.chats = rows.chats;
  return ds;
}

function emptyError(file: string, format: TextFormat, rejected: Rejected[]): DatasetError {
  if (rejected.length === 0) return new DatasetError('DATA_EMPTY', file, '0 usable examples: the file has no text');
  const first = rejected[0];
  return new DatasetError(
    format === 'csv' ? 'DATA_CSV' : 'DATA_JSONL',
    file,
    `0 usable examples: all ${rejected.length} rows were rejected; first at line ${first.line}: ${first.reason}`,
    first.line,
  );
}
