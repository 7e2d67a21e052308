// Chat rows → messages. Two row shapes are accepted (docs/chat.md#rows):
//   {"messages": [{"role": "system"|"user"|"assistant", "content": "…"}]}
//   {"conversations": [{"from": "system"|"human"|"gpt", "value": "…"}]}   (ShareGPT)
// Parsing is strict: a row that would render into something other than what the user wrote is rejected with
// the message index and the reason, never repaired. Extra keys on a message (name, weight, …) are ignored.

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** ShareGPT speaker names → the roles chat templates use (FastChat's convention). */
const SHAREGPT_ROLES: Record<string, ChatRole> = { system: 'system', human: 'user', gpt: 'assistant' };
const ROLES: readonly string[] = ['system', 'user', 'assistant'];

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Field access on an untrusted object: own properties only, so `__proto__` is a plain key. */
function own(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** True when a parsed JSONL row is a chat row (it has `messages` or `conversations`). */
export function isChatRow(obj: object): boolean {
  return Object.hasOwn(obj, 'messages') || Object.hasOwn(obj, 'conversations');
}

/**
 * The row's messages, or why the row cannot be trained on. `needsReply: false` accepts a conversation with no
 * assistant turn yet (one to reply to: the playground, `lorasc generate --chat-file`).
 */
export function chatFromRow(obj: object, opts: { needsReply?: boolean } = {}): ChatMessage[] | string {
  const hasMessages = Object.hasOwn(obj, 'messages');
  if (hasMessages && Object.hasOwn(obj, 'conversations')) return 'row has both "messages" and "conversations"; keep one';
  const field = hasMessages ? 'messages' : 'conversations';
  const list = own(obj, field);
  if (list === undefined) return 'missing field "messages" (or "conversations")';
  if (!Array.isArray(list)) return `field "${field}" must be an array, got ${kindOf(list)}`;
  if (list.length === 0) return `empty conversation: "${field}" has no messages`;
  const [roleKey, textKey] = hasMessages ? ['role', 'content'] : ['from', 'value'];
  const out: ChatMessage[] = [];
  for (let i = 0; i < list.length; i++) {
    const m: unknown = list[i];
    const where = `${field}[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return `${where} must be an object, got ${kindOf(m)}`;
    const who = own(m, roleKey);
    if (who === undefined) return `${where} has no "${roleKey}"`;
    if (typeof who !== 'string') return `${where}.${roleKey} must be a string, got ${kindOf(who)}`;
    const role = hasMessages ? (ROLES.includes(who) ? (who as ChatRole) : undefined) : Object.hasOwn(SHAREGPT_ROLES, who) ? SHAREGPT_ROLES[who] : undefined;
    if (role === undefined) {
      const known = hasMessages ? 'system, user, assistant' : 'system, human, gpt';
      return `${where}: unknown ${roleKey} ${JSON.stringify(who).slice(0, 40)} (expected ${known})`;
    }
    const text = own(m, textKey);
    if (text === undefined) return `${where} has no "${textKey}"`;
    if (typeof text !== 'string') return `${where}.${textKey} must be a string, got ${kindOf(text)}`;
    if (text.trim() === '') return `${where} (${role}) has empty ${textKey}`;
    if (role === 'system' && i !== 0) return `${where}: a system message must come first`;
    out.push({ role, content: text });
  }
  if (opts.needsReply !== false && !out.some((m) => m.role === 'assistant')) return 'no assistant turn: nothing to train on';
  if (out.every((m) => m.role !== 'user')) return 'no user turn: the conversation has no prompt';
  return out;
}
