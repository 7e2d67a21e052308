// Token ids of a whole rendered conversation with each token's character range, so that character spans
// become token masks without tokenizing piece by piece (which can change tokens at the piece boundaries).
// The text is tokenized once; each token's UTF-8 byte length comes from its vocabulary form (byte-level
// alphabet: one character per byte) or, for an added token, from its content. A byte range is mapped to the
// UTF-16 code units of the characters it touches, so a token holding part of an emoji covers that emoji.
import { CHAR_TO_BYTE } from '../tokenizer';

export interface TokenOffsets {
  ids: number[];
  /** Per token: first UTF-16 index it covers, and one past the last. */
  starts: number[];
  ends: number[];
}

export type OffsetEncoder = (text: string) => TokenOffsets;

/** What the offset encoder needs from the project's ByteLevelBpeTokenizer. */
export interface ByteLevelLike {
  encode(text: string): number[];
  idToTokenString(id: number): string | undefined;
}

const utf8 = new TextEncoder();

function tokenByteLength(tok: ByteLevelLike, id: number): number {
  const s = tok.idToTokenString(id);
  if (s === undefined) throw new Error(`token id ${id} is not in the tokenizer`);
  for (const ch of s) if (!CHAR_TO_BYTE.has(ch)) return utf8.encode(s).length; // added-token content
  return [...s].length;
}

export function byteLevelOffsets(tok: ByteLevelLike): OffsetEncoder {
  return (text) => {
    // byteToChar[b] = UTF-16 index of the character holding byte b; charEnd[b] = one past that character
    const byteToChar: number[] = [];
    const charEnd: number[] = [];
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const units = cp > 0xffff ? 2 : 1;
      const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < n; k++) {
        byteToChar.push(i);
        charEnd.push(i + units);
      }
      i += units;
    }
    const ids = tok.encode(text);
    const starts: number[] = [];
    const ends: number[] = [];
    let b = 0;
    for (const id of ids) {
      const len = tokenByteLength(tok, id);
      if (len === 0 || b + len > byteToChar.length) break;
      starts.push(byteToChar[b]);
      ends.push(charEnd[b + len - 1]);
      b += len;
    }
    if (starts.length !== ids.length || b !== byteToChar.length) {
      throw new Error(`token offsets do not cover the text (${b} of ${byteToChar.length} bytes): the tokenizer normalizes text or has an added token in byte-level form`);
    }
    return { ids, starts, ends };
  };
}

/** 1 for each token whose characters overlap a span (transformers' char_to_token rule at span edges). */
export function tokenMask(enc: TokenOffsets, spans: readonly { start: number; end: number }[]): Uint8Array {
  const mask = new Uint8Array(enc.ids.length);
  let k = 0;
  for (let t = 0; t < enc.ids.length; t++) {
    while (k < spans.length && spans[k].end <= enc.starts[t]) k++;
    if (k < spans.length && spans[k].start < enc.ends[t]) mask[t] = 1;
  }
  return mask;
}
