// Our encode/decode against tokenizers.js (the independent oracle) on a tokenizer our trainer built from
// ~1 MB of English: the same ids on corpus text, hand-picked edge cases and seeded random strings, and
// decode(encode(x)) === x.
import { beforeAll, describe, expect, it } from 'vitest';
import { BYTE_TO_CHAR, fromTokenizerObject, splitWords, toByteLevel } from '../../../src/io/tokenizer';
import { mulberry32 } from '../../helpers/random';
import { makeOracle, oracleDecode, oracleEncode, randomStrings, train, type Trained } from './fixture';

const EDGE_CASES: readonly string[] = [
  '',
  ' ',
  '  ',
  '\n',
  '\t',
  'a',
  'Hello world',
  ' Hello world',
  'Hello   world  ',
  'trailing spaces   ',
  '   leading spaces',
  'line one\nline two\n\n\nline five\r\n',
  'tabs\tbetween\t\twords\t',
  "I'm sure you've heard they'll say it's John's, we'd've, don't, I'LL, 'S",
  "rock 'n' roll ''quoted'' '",
  'Numbers: 0 1 12 123 1234 12345 3.14159 -42 1e10 1,000,000 ½ ² ٣٤٥',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷🇩🇪 keycap 1️⃣',
  '中文字符和日本語の文章、한국어 텍스트。',
  'café naïve coöperate Ångström façade',
  'combining: e\u0301 a\u0308\u0323 Z\u0336\u0337',
  'zero\u200bwidth joiner\u200dhere, nbsp\u00a0there, ideographic\u3000space, line\u2028sep',
  'Ελληνικά Русский עברית العربية हिन्दी ภาษาไทย',
  'control \u0000 \u0001 \u0007 \u007f \u00ad chars',
  'astral letters 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 𝟙𝟚𝟛',
  'doc one<|endoftext|>doc two',
  '<|endoftext|>',
  '<|endoftext|><|endoftext|>',
  ' <|endoftext|> ',
  'almost <|endoftext| and <|endoftext and endoftext|>',
  '<<|endoftext|>>',
  'code: const x = a?.b ?? {}; // ok\n\tif (x) { return [1, 2]; }',
  'a'.repeat(3000),
  ' '.repeat(5000),
  'x '.repeat(2000),
  '漢'.repeat(2000),
  '\n'.repeat(100) + 'end',
];

let t: Trained;

beforeAll(() => {
  t = train(4000);
});

function expectParity(text: string): void {
  const ids = t.ours.encode(text);
  expect(ids, JSON.stringify(text.slice(0, 80))).toEqual(oracleEncode(t.oracle, text));
  expect(t.ours.decode(ids)).toBe(text);
}

describe('encode/decode parity with tokenizers.js', () => {
  it('trained a 4,000-token vocabulary on ~1 MB of text, with <|endoftext|> last', () => {
    expect(t.paragraphs.join('').length).toBeGreaterThan(900_000);
    expect(t.ours.vocabSize).toBe(4000);
    expect(t.ours.eosTokenId).toBe(3999);
    expect(t.ours.bosTokenId).toBe(3999);
    expect(t.oracle.token_to_id('<|endoftext|>')).toBe(3999);
  });

  it('corpus paragraphs: identical ids, exact round trip', () => {
    for (const p of t.paragraphs.slice(0, 800)) expectParity(p);
  });

  it('edge cases: unicode, whitespace runs, contractions, numbers, <|endoftext|>, empty, long runs', () => {
    for (const s of EDGE_CASES) expectParity(s);
    expect(t.ours.encode('')).toEqual([]);
    expect(t.ours.decode([])).toBe('');
  });

  it('seeded random strings: identical ids, exact round trip', () => {
    for (const s of randomStrings(2000, mulberry32(7))) expectParity(s);
  });

  it('<|endoftext|> is matched before pre-tokenization and never split', () => {
    const eot = t.ours.eosTokenId as number;
    const ids = t.ours.encode('a<|endoftext|>b <|endoftext|>');
    expect(ids.filter((id) => id === eot)).toHaveLength(2);
    expect(t.ours.decode(ids)).toBe('a<|endoftext|>b <|endoftext|>');
    expect(t.ours.decode(ids, { skipSpecialTokens: true })).toBe('ab ');
    expect(t.ours.decode(ids, { skipSpecialTokens: true })).toBe(oracleDecode(t.oracle, ids, true));
  });

  it('lone surrogates encode as U+FFFD, as in the oracle (TextEncoder)', () => {
    for (const s of ['a\ud800b', '\udfff', 'x\ud83d']) {
      expect(t.ours.encode(s)).toEqual(oracleEncode(t.oracle, s));
      expect(t.ours.decode(t.ours.encode(s))).toBe(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
    }
  });
});

describe('decode of byte sequences that are not valid UTF-8', () => {
  const byteTokenId = (b: number): number => t.ours.tokenToId(BYTE_TO_CHAR[b]) as number;

  it('truncated, overlong, stray continuation and invalid bytes become U+FFFD like the oracle', () => {
    const cases: [number[], string][] = [
      [[0xff], '\ufffd'],
      [[0xe2, 0x82], '\ufffd'], // truncated € (maximal subpart → one U+FFFD)
      [[0xe2, 0x82, 0xac], '€'],
      [[0xc0, 0x80], '\ufffd\ufffd'], // overlong NUL
      [[0x80, 0x41], '\ufffdA'],
      [[0xf0, 0x9f, 0x98], '\ufffd'],
      [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'], // encoded surrogate
      [[0xef, 0xbb, 0xbf, 0x41], '\ufeffA'], // a BOM is kept, not stripped
    ];
    for (const [bytes, want] of cases) {
      const ids = bytes.map(byteTokenId);
      expect(t.ours.decode(ids)).toBe(want);
      expect(t.ours.decode(ids)).toBe(oracleDecode(t.oracle, ids));
    }
  });

  it('random id sequences decode exactly as the oracle decodes them', () => {
    const rand = mulberry32(11);
    for (let k = 0; k < 2000; k++) {
      const ids = Array.from({ length: 1 + Math.floor(rand() * 10) }, () => Math.floor(rand() * t.ours.vocabSize));
      expect(t.ours.decode(ids)).toBe(oracleDecode(t.oracle, ids));
    }
  });

  it('a character split across tokens decodes once joined; unknown ids are skipped as in HF', () => {
    const ids = t.ours.encode('😀');
    expect(t.ours.decode(ids)).toBe('😀');
    expect(t.ours.decode([...ids, 10 ** 6, -1, 1.5, NaN])).toBe('😀');
  });
});

describe('pre-tokenizer variants, checked against the oracle', () => {
  it('add_prefix_space: true prepends a space to each section between added tokens', () => {
    const json = structuredClone(t.json);
    json.pre_tokenizer = { ...json.pre_tokenizer, add_prefix_space: true as false };
    const ours = fromTokenizerObject(json);
    const oracle = makeOracle(json);
    expect(ours.addPrefixSpace).toBe(true);
    for (const s of [...EDGE_CASES, ...randomStrings(500, mulberry32(3))]) {
      expect(ours.encode(s), JSON.stringify(s.slice(0, 60))).toEqual(oracleEncode(oracle, s));
    }
    expect(ours.decode(ours.encode('Hello'))).toBe(' Hello');
  });

  it('use_regex: false makes each section one word', () => {
    const json = structuredClone(t.json);
    json.pre_tokenizer = { ...json.pre_tokenizer, use_regex: false as true };
    const ours = fromTokenizerObject(json);
    const oracle = makeOracle(json);
    for (const s of ['Hello world', "it's 42!", ...randomStrings(300, mulberry32(4))]) {
      expect(ours.encode(s)).toEqual(oracleEncode(oracle, s));
      expect(ours.decode(ours.encode(s))).toBe(s);
    }
  });

  it('added tokens with lstrip/rstrip swallow neighbouring whitespace; normalized ones match in a second pass', () => {
    const json = structuredClone(t.json) as unknown as { added_tokens: object[]; model: { vocab: Record<string, number> } };
    const base = Object.keys(json.model.vocab).length;
    json.added_tokens.push(
      { id: base, content: '<mask>', special: true, lstrip: true, rstrip: false, normalized: false, single_word: false },
      { id: base + 1, content: '[SEP]', special: true, lstrip: false, rstrip: true, normalized: false, single_word: false },
      { id: base + 2, content: 'xyzzy', special: false, lstrip: false, rstrip: false, normalized: true, single_word: false },
    );
    const ours = fromTokenizerObject(json);
    const oracle = makeOracle(json);
    const samples = ['a  <mask> b', 'x [SEP]   y', '<mask>xyzzy[SEP]xyzzy', 'say xyzzy\t<mask>\n[SEP]\n', 'axyzzya xyz zy'];
    for (const s of [...samples, ...randomStrings(300, mulberry32(5)).map((r) => r + samples[r.length % samples.length])]) {
      expect(ours.encode(s), JSON.stringify(s)).toEqual(oracleEncode(oracle, s));
    }
    expect(ours.vocabSize).toBe(base + 3);
  });
});

describe('the split regex follows Oniguruma (HF), not JavaScript, on \\s', () => {
  const opts = { addPrefixSpace: false, useRegex: true };

  it('U+0085 (NEL) is whitespace and U+FEFF (BOM) is not, as in HF tokenizers', () => {
    // Oniguruma's \s is White_Space: NEL in, BOM out. tokenizers.js uses JavaScript's \s, the reverse.
    expect(splitWords('a \u0085b', opts)).toEqual(['a', ' ', '\u0085', 'b']);
    expect(splitWords('a \ufeffb', opts)).toEqual(['a', ' \ufeff', 'b']);
    expect(t.oracle.pre_tokenizer?.pre_tokenize('a \u0085b')).toEqual(['a', ' \u0085', 'b'].map(toByteLevel));
    expect(t.oracle.pre_tokenizer?.pre_tokenize('a \ufeffb')).toEqual(['a', ' ', '\ufeff', 'b'].map(toByteLevel));
  });

  it('pieces always concatenate back to the input', () => {
    for (const s of [...EDGE_CASES, ...randomStrings(500, mulberry32(9)), 'a \u0085\ufeff b']) {
      expect(splitWords(s, opts).join('')).toBe(s);
    }
  });
});
