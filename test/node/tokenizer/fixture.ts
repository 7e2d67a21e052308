// Shared fixture: a tokenizer trained by our trainer on ~1 MB of seeded English, loaded twice — by our
// loader and by @huggingface/tokenizers (tokenizers.js), the independent oracle.
import { Tokenizer } from '@huggingface/tokenizers';
import { fromTokenizerJson, trainByteLevelBpe, type ByteLevelBpeTokenizer, type TrainedTokenizerJson } from '../../../src/io/tokenizer';
import { englishParagraphs } from './corpus';

export interface Trained {
  json: TrainedTokenizerJson;
  text: string;
  ours: ByteLevelBpeTokenizer;
  oracle: Tokenizer;
  paragraphs: string[];
  trainMs: number;
}

/** An oracle over a tokenizer.json object; no clean-up of spaces, which HF tokenizers does not do. */
export function makeOracle(json: object): Tokenizer {
  return new Tokenizer(json, { clean_up_tokenization_spaces: false });
}

/** The oracle's ids of `text`, nothing added around it. */
export function oracleEncode(oracle: Tokenizer, text: string): number[] {
  return oracle.encode(text, { add_special_tokens: false }).ids;
}

/** The oracle's text of `ids` (it refuses an empty list; HF returns ""). */
export function oracleDecode(oracle: Tokenizer, ids: number[], skipSpecial = false): string {
  return ids.length === 0 ? '' : oracle.decode(ids, { skip_special_tokens: skipSpecial });
}

export function train(vocabSize: number, corpusChars = 1_000_000, seed = 1): Trained {
  const paragraphs = englishParagraphs(corpusChars, seed);
  const t0 = performance.now();
  const json = trainByteLevelBpe(paragraphs, vocabSize);
  const trainMs = performance.now() - t0;
  const text = JSON.stringify(json);
  return { json, text, ours: fromTokenizerJson(text), oracle: makeOracle(JSON.parse(text)), paragraphs, trainMs };
}

/** Seeded strings built from pieces that stress the pre-tokenizer, byte-level BPE and added tokens. */
export const PIECES: readonly string[] = [
  'the', 'The', 'tokenizer', ' model', 'GPU', 'WebGPU', 'x', 'Z', 'don', "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
  "'S", "'LL", "'", '"', '0', '7', '42', '2024', '3.14', '1,000', '½', '٣', '²', ' ', '  ', '   ', '\t', '\n', '\n\n',
  '\r\n', '\u00a0', '\u3000', '\u2028', '\u200b', '\u200d', '😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '漢字', '日本語の文章', '한국어',
  'é', 'naïve', 'e\u0301', 'a\u0308\u0323', 'नमस्ते', 'مرحبا', 'שלום', 'ภาษาไทย', 'Ελληνικά', 'Привет', '!', '?!', '...',
  '—', '“quoted”', '(', ')', '{}', '<', '>', '|', '<|endoftext|>', '<|endoftext', 'endoftext|>', '<|', '|>', '\u0000',
  '\u0007', '\u007f', '\u00ad', '∑', '𝔘𝔫𝔦', '\ud83d\ude00', '#', '$', '%', '_', '__proto__', 'constructor', '\\', '/',
];

/** `count` strings of 1–12 random pieces each (mulberry32-seeded). */
export function randomStrings(count: number, rand: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 12);
    let s = '';
    for (let k = 0; k < n; k++) s += PIECES[Math.floor(rand() * PIECES.length)];
    out.push(s);
  }
  return out;
}
