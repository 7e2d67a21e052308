// Token ids of a whole rendered conversation with each token's character range, so that character spans
// become token masks without tokenizing piece by piece (which can change tokens at the piece boundaries).
// The text is tokenized once; each token's bytes come from the tokenizer (`tokenUnits`: the byte-level
// alphabet, SentencePiece `▁`/`<0xNN>`, or an added token's content) and are walked along the text's UTF-8
// bytes. Where the two differ in a way the supported normalizers explain, the walk follows the normalizer:
//   - `▁` (META) matches a space, a literal `▁`, or nothing (the space SentencePiece's Prepend / Metaspace
//     writes before a piece); the first `▁` of a piece the normalizer prepends to (the text's start, or after
//     an added token) is that written space, as HF tokenizers aligns it (to the piece's first character);
//   - text white space no token holds (an added token with lstrip/rstrip swallows it) goes to the token at
//     hand.
// Anything else (an NFC normalizer that changed the text) throws: no guessed offsets. A byte range is mapped
// to the UTF-16 code units of the characters it touches, so a token holding part of an emoji covers that
// emoji; a token that holds no text byte (a prepended `▁` alone) covers the character that follows it.
import { META } from '../tokenizer/units';

export interface TokenOffsets {
  ids: number[];
  /** Per token: first UTF-16 index it covers, and one past the last. */
  starts: number[];
  ends: number[];
}

export type OffsetEncoder = (text: string) => TokenOffsets;

/** What the offset encoder needs from a tokenizer (both src/io/tokenizer implementations have it). */
export interface UnitTokenizer {
  encode(text: string): number[];
  tokenUnits(id: number): number[] | undefined;
  /** SentencePiece-style tokenizers: where a `▁` is written that the text lacks (LibraryTokenizer). */
  readonly metaspacePrepend?: 'always' | 'first' | 'never';
  isAdded?(id: number): boolean;
}

export class TokenOffsetError extends Error {
  override name = 'TokenOffsetError';
}

const utf8 = new TextEncoder();
const SPACE = 0x20;
const META_BYTES = [0xe2, 0x96, 0x81]; // U+2581 in UTF-8
const isWhiteByte = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

export function tokenOffsets(tok: UnitTokenizer): OffsetEncoder {
  return (text) => {
    const bytes = utf8.encode(text);
    // byteToChar[b] = UTF-16 index of the character holding byte b; charEnd[b] = one past that character
    const byteToChar = new Int32Array(bytes.length + 1);
    const charEnd = new Int32Array(bytes.length + 1);
    let b = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const units = cp > 0xffff ? 2 : 1;
      const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < n; k++, b++) {
        byteToChar[b] = i;
        charEnd[b] = i + units;
      }
      i += units;
    }
    byteToChar[bytes.length] = text.length;
    charEnd[bytes.length] = text.length;
    const ids = tok.encode(text);
    const starts: number[] = [];
    const ends: number[] = [];
    let pos = 0; // next text byte
    const fail = (t: number, why: string): never => {
      throw new TokenOffsetError(`token ${t} (id ${ids[t]}) does not match the text at byte ${pos} (${why}): the tokenizer's normalizer changed the text`);
    };
    const prepend = tok.metaspacePrepend ?? 'never';
    for (let t = 0; t < ids.length; t++) {
      const units = tok.tokenUnits(ids[t]);
      if (units === undefined) fail(t, 'unknown id');
      let first = -1;
      const pieceStart = t === 0 ? prepend !== 'never' : prepend === 'always' && tok.isAdded?.(ids[t - 1]) === true && !tok.isAdded(ids[t]);
      let written = pieceStart && units![0] === META; // the first unit is the prepended space
      for (const u of units!) {
        if (written) {
          written = false;
          continue;
        }
        // white space an lstrip/rstrip added token swallowed: it belongs to the token at hand (not for `▁`,
        // which may be a prepended space the next token's text follows)
        while (u !== META && pos < bytes.length && bytes[pos] !== u && isWhiteByte(bytes[pos])) {
          if (first < 0) first = pos;
          pos++;
        }
        if (u === META) {
          if (bytes[pos] === SPACE) {
            if (first < 0) first = pos;
            pos++;
          } else if (bytes[pos] === META_BYTES[0] && bytes[pos + 1] === META_BYTES[1] && bytes[pos + 2] === META_BYTES[2]) {
            if (first < 0) first = pos;
            pos += 3;
          } // else: a space the normalizer prepended; it holds no text
        } else if (pos < bytes.length && bytes[pos] === u) {
          if (first < 0) first = pos;
          pos++;
        } else fail(t, pos < bytes.length ? `byte ${bytes[pos]} ≠ ${u}` : 'past the end');
      }
      if (first < 0) {
        // no text byte: cover the character that follows (or the last one at the end)
        const at = Math.min(pos, Math.max(bytes.length - 1, 0));
        starts.push(byteToChar[at]);
        ends.push(bytes.length === 0 ? 0 : charEnd[at]);
      } else {
        starts.push(byteToChar[first]);
        ends.push(charEnd[pos - 1]);
      }
    }
    // trailing white space an rstrip token swallowed
    while (pos < bytes.length && isWhiteByte(bytes[pos]) && ends.length > 0) {
      ends[ends.length - 1] = charEnd[pos];
      pos++;
    }
    if (pos !== bytes.length) throw new TokenOffsetError(`token offsets do not cover the text (${pos} of ${bytes.length} bytes)`);
    return { ids, starts, ends };
  };
}

/** The byte-level path's name before the encoder handled every tokenizer; same function. */
export const byteLevelOffsets = tokenOffsets;

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
