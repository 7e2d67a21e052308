// Typed dataset errors (docs/failure-scenarios.md#datasets): a stable DATA_ code, the file, the 1-based line where one applies,
// and a message that names both. Fatal problems throw a DatasetError; rows or files that are merely unusable
// are collected as Rejected / RejectedFile entries so the UI can show the count and let the user skip or abort.

export type DatasetErrorCode =
  | 'DATA_TOO_LARGE' // the file exceeds the configured size cap
  | 'DATA_FORMAT' // a CSV header without usable columns
  | 'DATA_UTF8' // the bytes are not valid UTF-8
  | 'DATA_JSONL' // every JSONL line was rejected
  | 'DATA_CSV' // CSV structure error (unterminated quote) or every row rejected
  | 'DATA_IMAGE' // an image folder that cannot be used (fewer than 2 classes)
  | 'DATA_EMPTY' // no usable examples at all (B5)
  | 'DATA_ARGS'; // invalid arguments (T, fractions, batch sizes)

/** A row that was not used: the file, its 1-based line, and why. */
export interface Rejected {
  file: string;
  line: number;
  reason: string;
}

/** A file of an image folder that was not used, and why. */
export interface RejectedFile {
  file: string;
  reason: string;
}

export class DatasetError extends Error {
  override name = 'DatasetError';

  constructor(
    readonly code: DatasetErrorCode,
    /** The dataset file (or folder) at fault. */
    readonly file: string,
    /** What was wrong, without the file or line (both are added to `message`). */
    readonly detail: string,
    /** 1-based line, where the problem has one. */
    readonly line?: number,
    options: { cause?: unknown } = {},
  ) {
    super(`${code} in ${file}${line !== undefined ? `, line ${line}` : ''}: ${detail}`, { cause: options.cause });
  }
}

/** Shortens user text for messages; JSON-quoted so control characters stay visible. */
export function quoteShort(s: string, max = 40): string {
  const q = JSON.stringify(s);
  return q.length > max ? `${q.slice(0, max - 3)}…"` : q;
}
