// The text a single token stands for, as UTF-8 bytes, so that a caller can find which characters of the
// encoded text each token covers (src/io/chat/offsets.ts) without the library reporting offsets
// (Tokenizers.js gives none). One function per token alphabet:
//   byte-level (GPT-2, Llama-3, Qwen2/3, SmolLM2): each character of the vocabulary form is one byte;
//   SentencePiece-style (Llama-2, TinyLlama, Mistral): `<0xNN>` is byte NN (byte fallback), `▁` is a space
//     the normalizer wrote (the text's own space, or one it prepended) and is returned as META, other
//     characters are their UTF-8 bytes.
// Added tokens (`<|im_end|>`, `</s>`) are their content's bytes on both.
import { CHAR_TO_BYTE } from './bytes';

/** Stands for SentencePiece's `▁` in a unit list: a text space, a literal `▁`, or a space the normalizer added. */
export const META = 256;
const METASPACE = '\u2581';
const utf8 = new TextEncoder();

export function byteLevelUnits(vocabForm: string): number[] {
  const out: number[] = [];
  for (const ch of vocabForm) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) throw new Error(`token ${JSON.stringify(vocabForm)} is not in the byte-level alphabet`);
    out.push(b);
  }
  return out;
}

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export function metaspaceUnits(vocabForm: string): number[] {
  const m = BYTE_TOKEN.exec(vocabForm);
  if (m) return [parseInt(m[1], 16)];
  const out: number[] = [];
  for (const ch of vocabForm) {
    if (ch === METASPACE) out.push(META);
    else for (const b of utf8.encode(ch)) out.push(b);
  }
  return out;
}

export function contentUnits(content: string): number[] {
  return [...utf8.encode(content)];
}
