// The byte-level BPE trainer: a valid HF tokenizer.json, its documented conventions (ids, tie-breaking,
// special tokens), determinism, speed; plus the byte table and the BPE heap on long words.
import { describe, expect, it } from 'vitest';
import {
  BYTE_ALPHABET,
  BYTE_TO_CHAR,
  CHAR_TO_BYTE,
  fromTokenizerObject,
  MAX_TRAIN_VOCAB,
  TokenizerError,
  toByteLevel,
  trainByteLevelBpe,
} from '../../../src/io/tokenizer';
import { englishParagraphs } from './corpus';
import { makeOracle, oracleEncode } from './fixture';

describe('bytes_to_unicode table', () => {
  it('is GPT-2’s: printable bytes map to themselves, others to U+0100… in byte order', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0xff]).toBe('ÿ');
    for (let b = 0; b < 256; b++) expect(CHAR_TO_BYTE.get(BYTE_TO_CHAR[b])).toBe(b);
    expect(BYTE_ALPHABET.slice(0, 3)).toEqual(['!', '"', '#']); // GPT-2 vocab.json ids 0, 1, 2
    expect(BYTE_ALPHABET[255]).toBe('Ń');
    expect(toByteLevel(' é\n')).toBe('ĠÃ©Ċ');
  });
});

describe('trainByteLevelBpe', () => {
  const corpus = englishParagraphs(1_000_000, 3);

  it('writes a complete HF tokenizer.json that both loaders read, <|endoftext|> = last id', () => {
    const json = trainByteLevelBpe(corpus.slice(0, 500), 1000);
    expect(json.pre_tokenizer).toEqual({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(json.decoder.type).toBe('ByteLevel');
    expect(json.model.type).toBe('BPE');
    const vocab = json.model.vocab;
    expect(Object.keys(vocab)).toHaveLength(1000);
    expect(Object.values(vocab).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    BYTE_ALPHABET.forEach((c, i) => expect(vocab[c]).toBe(i));
    expect(json.added_tokens).toEqual([
      { id: 999, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ]);
    expect(vocab['<|endoftext|>']).toBe(999);
    expect(json.model.merges).toHaveLength(1000 - 256 - 1);
    const reparsed = JSON.parse(JSON.stringify(json));
    const ours = fromTokenizerObject(reparsed);
    expect(ours.eosTokenId).toBe(999);
    expect(makeOracle(reparsed).encode('hello <|endoftext|>', { add_special_tokens: false }).ids).toEqual(ours.encode('hello <|endoftext|>'));
  });

  it('is deterministic', () => {
    const a = JSON.stringify(trainByteLevelBpe(corpus.slice(0, 800), 1200));
    const b = JSON.stringify(trainByteLevelBpe(corpus.slice(0, 800), 1200));
    expect(a).toBe(b);
  });

  it('merges the most frequent pair; ties go to the smaller left id, then the smaller right id', () => {
    // "abcd": three pairs of count 1. (a,b) first (a < b < c in id order); then (c,d) beats (ab,c)
    // because c's id is a byte id, smaller than ab's; then (ab, cd).
    expect(trainByteLevelBpe(['abcd'], 400, { minFrequency: 1 }).model.merges).toEqual(['a b', 'c d', 'ab cd']);
    // words: "xy" ×1, "Ġxy" ×2, "Ġzw" ×1 → (x,y):3 then (Ġ,xy):2; then the ties (z,w) vs (Ġ,z): z's id < Ġ's.
    expect(trainByteLevelBpe(['xy xy xy zw'], 400, { minFrequency: 1 }).model.merges).toEqual(['x y', 'Ġ xy', 'z w', 'Ġ zw']);
    // With the default minFrequency 2, pairs seen once are not merged.
    expect(trainByteLevelBpe(['xy xy xy zw'], 400).model.merges).toEqual(['x y', 'Ġ xy']);
  });

  it('stops early when the corpus runs out of pairs; special tokens keep the last ids, in order', () => {
    const json = trainByteLevelBpe(['aaaa'], 1000, { specialTokens: ['<pad>', '<|endoftext|>'], minFrequency: 1 });
    expect(json.model.merges).toEqual(['a a', 'aa aa']);
    expect(json.added_tokens.map((t) => [t.content, t.id])).toEqual([['<pad>', 258], ['<|endoftext|>', 259]]);
    expect(fromTokenizerObject(json).vocabSize).toBe(260);
  });

  it('never learns across special tokens, nor a merge that would spell one', () => {
    const json = trainByteLevelBpe(['<|endoftext|>x<|endoftext|>x<|endoftext|>'], 400, { minFrequency: 1 });
    expect(json.model.merges.filter((m) => m.includes('|') || m.includes('<'))).toEqual([]);
    const spelled = trainByteLevelBpe(['ab ab ab ab'], 400, { specialTokens: ['ab'], minFrequency: 1 });
    expect(spelled.model.merges).not.toContain('a b');
    const ours = fromTokenizerObject(spelled);
    const oracle = makeOracle(spelled);
    for (const s of ['ab ab', 'xab ab', 'a b']) expect(ours.encode(s)).toEqual(oracleEncode(oracle, s));
  });

  it('learns tokens spelled like Object.prototype members as ordinary keys', () => {
    const json = trainByteLevelBpe(['constructor hasOwnProperty toString '.repeat(50)], 320);
    const text = JSON.stringify(json);
    const ours = fromTokenizerObject(JSON.parse(text));
    for (const w of ['Ġconstructor', 'ĠhasOwnProperty', 'ĠtoString']) expect(ours.tokenToId(w)).toBeGreaterThan(255);
    const s = ' constructor hasOwnProperty toString valueOf';
    expect(ours.encode(s)).toEqual(oracleEncode(makeOracle(JSON.parse(text)), s));
  });

  // The timeout is the hang guard (no timing assertion); ~0.5 s on a 2-core CI box.
  it('trains 8,000 tokens on ~1 MB of text', () => {
    const json = trainByteLevelBpe(corpus, 8000);
    expect(Object.keys(json.model.vocab)).toHaveLength(8000);
  }, 60_000);

  it('refuses bad arguments with a TokenizerError', () => {
    const bad: [unknown, unknown, unknown][] = [
      ['not an array', 300, {}],
      [['ok', 3], 300, {}],
      [['ok'], 256, {}], // no room for <|endoftext|>
      [['ok'], 300.5, {}],
      [['ok'], MAX_TRAIN_VOCAB + 1, {}],
      [['ok'], 300, { specialTokens: [''] }],
      [['ok'], 300, { specialTokens: ['<a>', '<a>'] }],
      [['ok'], 300, { specialTokens: ['a'] }], // a byte token
      [['ok'], 300, { minFrequency: 0 }],
    ];
    for (const [texts, size, opts] of bad) {
      expect(() => trainByteLevelBpe(texts as string[], size as number, opts as object)).toThrow(TokenizerError);
    }
  });
});

describe('BPE on long words', () => {
  // No timing assertion: the test timeout is the hang guard (a quadratic merge loop on 200,000
  // characters takes minutes, the heap merge well under a second).
  it('a 200,000-character word encodes (heap merge, not quadratic)', () => {
    const json = trainByteLevelBpe(['ab '.repeat(100) + 'x'.repeat(64)], 300, { minFrequency: 1 });
    const ours = fromTokenizerObject(json);
    const word = 'x'.repeat(200_000);
    const ids = ours.encode(word);
    expect(ours.decode(ids)).toBe(word);
    const shorter = word.slice(0, 5001); // the oracle is slower on long words
    expect(ours.encode(shorter)).toEqual(oracleEncode(makeOracle(json), shorter));
  }, 30_000);
});
