// JSONL: one JSON object per line (docs/failure-scenarios.md#b2). Every bad line is rejected with its 1-based line
// number and the field at fault; blank lines are skipped. Lines are found with indexOf: linear in the file.
// A file is a chat file when its first JSON object has "messages" or "conversations" (src/io/chat): then every
// row must be a chat row, and a text/instruction row in a chat file (or the reverse) is rejected by line.
import { chatFromRow, isChatRow } from '../chat/messages';
import type { ChatRow } from '../chat/sequences';
import { exampleFromFields, type TextExample } from './alpaca';
import type { Rejected } from './errors';

export interface ParsedRows {
  examples: TextExample[];
  /** Conversations of a chat file (then `examples` is empty). */
  chats?: ChatRow[];
  rejected: Rejected[];
}

interface Mode {
  /** null until the first JSON object decides. */
  chat: boolean | null;
  firstLine: number;
}

export function parseJsonl(text: string, file: string, maxRecordChars: number): ParsedRows {
  const examples: TextExample[] = [];
  const chats: ChatRow[] = [];
  const rejected: Rejected[] = [];
  const mode: Mode = { chat: null, firstLine: 0 };
  let pos = 0;
  for (let line = 1; pos <= text.length; line++) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const reason = parseLine(text, pos, end, maxRecordChars, examples, chats, mode, line);
    if (reason !== null) rejected.push({ file, line, reason });
    pos = end + 1;
  }
  return mode.chat ? { examples, chats, rejected } : { examples, rejected };
}

/** Adds the line's example or conversation, or returns why it was rejected (null also for a blank line). */
function parseLine(
  text: string,
  start: number,
  end: number,
  maxChars: number,
  out: TextExample[],
  chats: ChatRow[],
  mode: Mode,
  line: number,
): string | null {
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
  if (mode.chat === null) {
    mode.chat = isChatRow(obj);
    mode.firstLine = line;
  }
  if (mode.chat !== isChatRow(obj)) {
    return mode.chat
      ? `not a chat row (no "messages" or "conversations") in a chat file (line ${mode.firstLine} is a chat row)`
      : `a chat row ("messages" or "conversations") in a text/instruction file (line ${mode.firstLine} is not a chat row)`;
  }
  if (mode.chat) {
    const messages = chatFromRow(obj);
    if (typeof messages === 'string') return messages;
    chats.push({ line, messages });
    return null;
  }
  const ex = exampleFromFields((name) => (Object.hasOwn(obj, name) ? obj[name] : undefined));
  if (typeof ex === 'string') return ex;
  out.push(ex);
  return null;
}
