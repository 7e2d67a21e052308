// JSONL: one JSON object per line (RELIABILITY.md B2). Every bad line is rejected with its 1-based line
// number and the field at fault; blank lines are skipped. Lines are found with indexOf: linear in the file.
import { exampleFromFields, type TextExample } from './alpaca';
import type { Rejected } from './errors';

export interface ParsedRows {
  examples: TextExample[];
  rejected: Rejected[];
}

export function parseJsonl(text: string, file: string, maxRecordChars: number): ParsedRows {
  const examples: TextExample[] = [];
  const rejected: Rejected[] = [];
  let pos = 0;
  for (let line = 1; pos <= text.length; line++) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const reason = parseLine(text, pos, end, maxRecordChars, examples);
    if (reason !== null) rejected.push({ file, line, reason });
    pos = end + 1;
  }
  return { examples, rejected };
}

/** Adds the line's example, or returns why it was rejected (null also for a blank line). */
function parseLine(text: string, start: number, end: number, maxChars: number, out: TextExample[]): string | null {
  if (end - start > maxChars) return `line has ${end - start} characters (limit ${maxChars})`;
  const src = text.slice(start, end);
  if (src.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(src);
  } catch (e) {
    return `invalid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `not a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
  }
  const obj = value as Record<string, unknown>;
  const ex = exampleFromFields((name) => (Object.hasOwn(obj, name) ? obj[name] : undefined));
  if (typeof ex === 'string') return ex;
  out.push(ex);
  return null;
}
