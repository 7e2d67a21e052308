// Strict UTF-8 decoding for dataset files: BOM stripped, CRLF → LF, and on malformed input the byte offset
// and line of the first bad byte (TextDecoder's fatal mode says only that the input is bad, not where).
import { DatasetError } from './errors';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Offset of the first byte that starts an ill-formed sequence (Unicode 15 table 3-7: no overlongs, no
 * surrogates, nothing above U+10FFFF, no truncated sequences), or -1 when `b` is valid UTF-8.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) (need = 2), (lo = 0xa0);
    else if (c === 0xed) (need = 2), (hi = 0x9f);
    else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) (need = 3), (lo = 0x90);
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) (need = 3), (hi = 0x8f);
    else return i;
    if (i + need >= n) return i; // truncated at the end of the input
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k <= need; k++) if (b[i + k] < 0x80 || b[i + k] > 0xbf) return i;
    i += need + 1;
  }
  return -1;
}

/** 1-based line and column (in bytes) of byte `offset`. */
export function lineOfOffset(b: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (b[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The text of a dataset file: strict UTF-8, leading BOM removed, CRLF normalised to LF. */
export function decodeDatasetText(bytes: Uint8Array, file: string): string {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch (e) {
    if (e instanceof RangeError) {
      throw new DatasetError('DATA_TOO_LARGE', file, `${bytes.length} bytes do not fit in one string`, undefined, { cause: e });
    }
    const at = firstInvalidUtf8(bytes);
    const offset = at < 0 ? 0 : at;
    const { line, column } = lineOfOffset(bytes, offset);
    const hex = at < 0 ? '' : ` (byte 0x${bytes[at].toString(16).padStart(2, '0')})`;
    throw new DatasetError(
      'DATA_UTF8',
      file,
      `invalid UTF-8 at byte offset ${offset}${hex}, column ${column}; save the file as UTF-8`,
      line,
      { cause: e },
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.indexOf('\r\n') < 0 ? text : text.replace(/\r\n/g, '\n');
}
