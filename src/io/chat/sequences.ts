// Chat conversations → training sequences of length T, with the same conventions as the text examples
// (src/io/datasets/sequences.ts): labels[j] is the id that follows ids[0..j], IGNORE_INDEX (-100) where that
// next token is not part of an assistant reply (its end-of-turn token included), padding with EOS (or 0).
// The rendered text is tokenized as apply_chat_template(tokenize=True) does: once, no special tokens added
// around it (the template writes bos_token itself where the model wants one).
// One conversation per sequence, never packed: a conversation longer than T + 1 tokens is truncated (its line
// is listed in `truncatedLines`), and one whose window holds no reply token is rejected with its line, so
// every row the user wrote is either trained on or named.
import { IGNORE_INDEX, type LmSequences } from '../datasets/sequences';
import type { Rejected } from '../datasets/errors';
import type { ChatMessage } from './messages';
import { TokenOffsetError, tokenMask, type OffsetEncoder } from './offsets';
import { renderWithSpans } from './spans';
import { ChatTemplateError, type ChatTemplate } from './template';

export interface ChatRow {
  /** 1-based line of the row in its file. */
  line: number;
  messages: ChatMessage[];
}

export interface ChatSequences extends LmSequences {
  /** Conversations the template refused, whose replies could not be located, or with no reply in T + 1 tokens. */
  rejected: Rejected[];
  /** Lines of the conversations cut to T + 1 tokens (their later turns are not trained). */
  truncatedLines: number[];
}

export function buildChatSequences(
  rows: readonly ChatRow[],
  file: string,
  tpl: ChatTemplate,
  encode: OffsetEncoder,
  eosId: number | null,
  T: number,
): ChatSequences {
  const pad = eosId ?? 0;
  const out: ChatSequences = { ids: [], labels: [], tokenCount: 0, trainedTokens: 0, truncated: 0, dropped: 0, rejected: [], truncatedLines: [] };
  for (const row of rows) {
    let rendered;
    try {
      rendered = renderWithSpans(tpl, row.messages);
    } catch (e) {
      if (!(e instanceof ChatTemplateError)) throw e;
      out.rejected.push({ file, line: row.line, reason: e.message });
      continue;
    }
    let enc;
    try {
      enc = encode(rendered.text);
    } catch (e) {
      if (!(e instanceof TokenOffsetError)) throw e;
      out.rejected.push({ file, line: row.line, reason: `the reply tokens cannot be located: ${e.message}` });
      continue;
    }
    const mask = tokenMask(enc, rendered.spans);
    const n = enc.ids.length;
    out.tokenCount += n;
    const len = Math.min(n, T + 1);
    const ids = new Uint32Array(T).fill(pad);
    const labels = new Int32Array(T).fill(IGNORE_INDEX);
    let trained = 0;
    for (let j = 0; j < Math.min(T, len); j++) ids[j] = enc.ids[j];
    for (let j = 0; j + 1 < len; j++) {
      if (mask[j + 1]) {
        labels[j] = enc.ids[j + 1];
        trained++;
      }
    }
    if (trained === 0) {
      out.dropped++;
      out.rejected.push({ file, line: row.line, reason: `no reply token within the first ${T + 1} tokens (the conversation is ${n} tokens): raise the sequence length or shorten the prompt` });
      continue;
    }
    if (n > T + 1) {
      out.truncated++;
      out.truncatedLines.push(row.line);
    }
    out.trainedTokens += trained;
    out.ids.push(ids);
    out.labels.push(labels);
  }
  return out;
}
