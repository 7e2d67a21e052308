// Malformed tokenizer files (docs/failure-scenarios.md#a10): each is refused with a TokenizerError that carries the
// code, names the file and says what is wrong; random corruption never escapes as another error type.
import { describe, expect, it } from 'vitest';
import { fromTokenizerJson, fromVocabMerges, MAX_TOKENIZER_FILE_CHARS, TokenizerError, trainByteLevelBpe, type TokenizerErrorCode } from '../../../src/io/tokenizer';
import { mulberry32 } from '../../helpers/random';

type Json = Record<string, any>; // the tests mutate arbitrary fields

const VALID = trainByteLevelBpe(['hello world, hello there. hello world!'], 270, { minFrequency: 1 });
const VALID_TEXT = JSON.stringify(VALID);
const mutate = (f: (j: Json) => void): string => {
  const j = JSON.parse(VALID_TEXT) as Json;
  f(j);
  return JSON.stringify(j);
};
const firstMerge = VALID.model.merges[0]; // "h e"

function expectRefused(load: () => unknown, code: TokenizerErrorCode, file: string, fragment: string): void {
  let err: unknown;
  try {
    load();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a TokenizerError').toBeInstanceOf(TokenizerError);
  const te = err as TokenizerError;
  expect(te.code).toBe(code);
  expect(te.file).toBe(file);
  expect(te.message).toContain(`in ${file}:`);
  expect(te.message).toContain(fragment);
}

const TOKENIZER_JSON_CASES: [string, string, TokenizerErrorCode, string][] = [
  ['empty file', '', 'MODEL_TOKENIZER_JSON', 'invalid JSON'],
  ['truncated JSON', VALID_TEXT.slice(0, 100), 'MODEL_TOKENIZER_JSON', 'invalid JSON'],
  ['top level is an array', '[]', 'MODEL_TOKENIZER_SCHEMA', 'the top level must be an object'],
  ['top level is null', 'null', 'MODEL_TOKENIZER_SCHEMA', 'the top level must be an object'],
  ['no model', mutate((j) => delete j.model), 'MODEL_TOKENIZER_SCHEMA', 'model must be an object, found nothing'],
  ['model.type missing', mutate((j) => delete j.model.type), 'MODEL_TOKENIZER_SCHEMA', 'model.type is nothing'],
  ['model.type WordPiece', mutate((j) => (j.model.type = 'WordPiece')), 'MODEL_TOKENIZER_UNSUPPORTED', '"WordPiece"; expected "BPE"'],
  ['model.type Unigram', mutate((j) => (j.model.type = 'Unigram')), 'MODEL_TOKENIZER_UNSUPPORTED', 'expected "BPE"'],
  ['no vocab', mutate((j) => delete j.model.vocab), 'MODEL_TOKENIZER_SCHEMA', 'model.vocab must be an object, found nothing'],
  ['vocab is an array', mutate((j) => (j.model.vocab = ['a'])), 'MODEL_TOKENIZER_SCHEMA', 'model.vocab must be an object'],
  ['vocab is empty', mutate((j) => (j.model.vocab = {})), 'MODEL_TOKENIZER_VOCAB', 'model.vocab is empty'],
  ['fractional id', mutate((j) => (j.model.vocab.h = 1.5)), 'MODEL_TOKENIZER_VOCAB', '"h" has id number 1.5'],
  ['string id', mutate((j) => (j.model.vocab.h = '7')), 'MODEL_TOKENIZER_VOCAB', 'ids must be integers'],
  ['negative id', mutate((j) => (j.model.vocab.h = -1)), 'MODEL_TOKENIZER_VOCAB', 'outside 0…'],
  ['absurd id', mutate((j) => (j.model.vocab.h = 1e12)), 'MODEL_TOKENIZER_VOCAB', 'has id 1000000000000'],
  ['duplicate ids', mutate((j) => (j.model.vocab.h = j.model.vocab.e)), 'MODEL_TOKENIZER_VOCAB', 'share id'],
  ['no merges', mutate((j) => delete j.model.merges), 'MODEL_TOKENIZER_SCHEMA', 'model.merges must be an array'],
  ['merges is a string', mutate((j) => (j.model.merges = 'h e')), 'MODEL_TOKENIZER_SCHEMA', 'model.merges must be an array'],
  ['merge with three parts', mutate((j) => j.model.merges.push('h e l')), 'MODEL_TOKENIZER_MERGES', 'expected "left right"'],
  ['merge without a space', mutate((j) => j.model.merges.push('he')), 'MODEL_TOKENIZER_MERGES', 'model.merges['],
  ['merge pair of three', mutate((j) => j.model.merges.push(['h', 'e', 'l'])), 'MODEL_TOKENIZER_MERGES', 'expected "left right"'],
  ['merge pair with a number', mutate((j) => j.model.merges.push(['h', 3])), 'MODEL_TOKENIZER_MERGES', 'expected "left right"'],
  ['merge of an unknown token', mutate((j) => j.model.merges.push('h QQQ')), 'MODEL_TOKENIZER_MERGES', '"QQQ", which is not in the vocabulary'],
  ['merge result not in vocab', mutate((j) => j.model.merges.push('Q Q')), 'MODEL_TOKENIZER_MERGES', '"QQ", which is not in the vocabulary'],
  ['merged token removed', mutate((j) => delete j.model.vocab[firstMerge.replace(' ', '')]), 'MODEL_TOKENIZER_MERGES', 'model.merges[0]'],
  ['added_tokens not an array', mutate((j) => (j.added_tokens = {})), 'MODEL_TOKENIZER_SCHEMA', 'added_tokens must be an array'],
  ['added token without id', mutate((j) => delete j.added_tokens[0].id), 'MODEL_TOKENIZER_VOCAB', 'added_tokens[0] has id nothing'],
  ['added token with empty content', mutate((j) => (j.added_tokens[0].content = '')), 'MODEL_TOKENIZER_SCHEMA', 'content must be a non-empty string'],
  ['added token on a vocab id', mutate((j) => (j.added_tokens[0].id = 5)), 'MODEL_TOKENIZER_VOCAB', 'id 5 belongs to'],
  ['added token with a bad flag', mutate((j) => (j.added_tokens[0].lstrip = 'yes')), 'MODEL_TOKENIZER_SCHEMA', 'lstrip must be true or false'],
  ['added token single_word', mutate((j) => (j.added_tokens[0].single_word = true)), 'MODEL_TOKENIZER_UNSUPPORTED', 'single_word'],
  ['normalizer present', mutate((j) => (j.normalizer = { type: 'NFC' })), 'MODEL_TOKENIZER_UNSUPPORTED', 'a normalizer (type "NFC")'],
  ['Metaspace pre-tokenizer', mutate((j) => (j.pre_tokenizer = { type: 'Metaspace' })), 'MODEL_TOKENIZER_UNSUPPORTED', 'pre_tokenizer.type is "Metaspace"; expected "ByteLevel"'],
  ['no pre-tokenizer', mutate((j) => (j.pre_tokenizer = null)), 'MODEL_TOKENIZER_UNSUPPORTED', 'pre_tokenizer is missing'],
  ['add_prefix_space missing', mutate((j) => delete j.pre_tokenizer.add_prefix_space), 'MODEL_TOKENIZER_SCHEMA', 'add_prefix_space must be true or false'],
  ['use_regex not boolean', mutate((j) => (j.pre_tokenizer.use_regex = 1)), 'MODEL_TOKENIZER_SCHEMA', 'use_regex'],
  ['WordPiece decoder', mutate((j) => (j.decoder = { type: 'WordPiece' })), 'MODEL_TOKENIZER_UNSUPPORTED', 'decoder.type'],
  ['unk_token not in vocab', mutate((j) => (j.model.unk_token = '<unk>')), 'MODEL_TOKENIZER_VOCAB', 'unk_token "<unk>" is not in the vocabulary'],
  ['unk_token a number', mutate((j) => (j.model.unk_token = 3)), 'MODEL_TOKENIZER_SCHEMA', 'unk_token must be a string or null'],
  ['continuing_subword_prefix', mutate((j) => (j.model.continuing_subword_prefix = '##')), 'MODEL_TOKENIZER_UNSUPPORTED', 'continuing_subword_prefix'],
  ['fuse_unk not boolean', mutate((j) => (j.model.fuse_unk = 'no')), 'MODEL_TOKENIZER_SCHEMA', 'model.fuse_unk'],
  ['byte_fallback with a missing byte', mutate((j) => ((j.model.byte_fallback = true), delete j.model.vocab['Ā'])), 'MODEL_TOKENIZER_UNSUPPORTED', 'byte_fallback'],
];

describe('tokenizer.json: malformed files are refused with a TokenizerError naming the file', () => {
  it.each(TOKENIZER_JSON_CASES)('%s', (_name, text, code, fragment) => {
    expectRefused(() => fromTokenizerJson(text, 'models/demo/tokenizer.json'), code, 'models/demo/tokenizer.json', fragment);
  });

  it('an eos name the tokenizer lacks', () => {
    expectRefused(() => fromTokenizerJson(VALID_TEXT, 'tokenizer.json', { eosToken: '</s>' }), 'MODEL_TOKENIZER_VOCAB', 'tokenizer.json', 'eos token "</s>"');
  });

  it('a file over the size cap is refused before parsing', () => {
    const huge = ' '.repeat(MAX_TOKENIZER_FILE_CHARS + 1);
    expectRefused(() => fromTokenizerJson(huge), 'MODEL_TOKENIZER_TOO_LARGE', 'tokenizer.json', 'the limit is 100 M');
  });

  it('keys such as __proto__ and constructor are ordinary tokens', () => {
    const text = mutate((j) => {
      j.model.vocab.constructor = 900;
    })
      .replace('"vocab":{', '"vocab":{"__proto__":901,')
      .replace('{"type":"BPE"', '{"__proto__":{"polluted":1},"type":"BPE"');
    const tok = fromTokenizerJson(text);
    expect(tok.tokenToId('constructor')).toBe(900);
    expect(tok.tokenToId('__proto__')).toBe(901);
    expect(({} as Json).polluted).toBeUndefined();
  });
});

describe('vocab.json + merges.txt: malformed files name the right file', () => {
  const vocab = JSON.stringify(VALID.model.vocab);
  const merges = `#version: 0.2\n${VALID.model.merges.join('\n')}\n`;
  const cases: [string, string, string, TokenizerErrorCode, string, string][] = [
    ['vocab.json not JSON', '{"a": 1,', merges, 'MODEL_TOKENIZER_JSON', 'vocab.json', 'invalid JSON'],
    ['vocab.json an array', '[1, 2]', merges, 'MODEL_TOKENIZER_SCHEMA', 'vocab.json', 'the vocabulary must be an object'],
    ['vocab.json duplicate ids', vocab.replace('"e":', '"e":0,"e2":'), merges, 'MODEL_TOKENIZER_VOCAB', 'vocab.json', 'share id'],
    ['merges.txt three parts', vocab, `${merges}h e l\n`, 'MODEL_TOKENIZER_MERGES', 'merges.txt', `line ${VALID.model.merges.length + 2} is "h e l"`],
    ['merges.txt blank line', vocab, merges.replace('\n', '\n\n'), 'MODEL_TOKENIZER_MERGES', 'merges.txt', 'line 2 is ""'],
    ['merges.txt unknown token', vocab, `${merges}h QQQ\n`, 'MODEL_TOKENIZER_MERGES', 'merges.txt', '"QQQ", which is not in the vocabulary'],
  ];
  it.each(cases)('%s', (_name, v, m, code, file, fragment) => {
    expectRefused(() => fromVocabMerges(v, m), code, file, fragment);
  });

  it('custom file names and explicit special tokens', () => {
    const opts = { vocabFileName: 'gpt2/vocab.json', mergesFileName: 'gpt2/merges.txt' };
    expectRefused(() => fromVocabMerges(vocab, 'a\n', opts), 'MODEL_TOKENIZER_MERGES', 'gpt2/merges.txt', 'line 1 is "a"');
    expectRefused(() => fromVocabMerges(vocab, merges, { ...opts, specialTokens: ['<pad>'] }), 'MODEL_TOKENIZER_VOCAB', 'gpt2/vocab.json', '"<pad>"');
  });
});

describe('random corruption never escapes as another error type', () => {
  const JUNK: unknown[] = [null, -1, 0, 1.5, 2 ** 40, '', 'x', 'Ġ', [], [1], ['a', 'b'], {}, { type: 'BPE' }, true];

  /** Every path to a value in the tokenizer object (the vocabulary sampled, it is large). */
  function paths(j: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
    out.push(at);
    if (j !== null && typeof j === 'object') {
      const entries = Object.entries(j).filter((_, i) => i % 37 === 0 || at.at(-1) !== 'vocab');
      for (const [k, v] of entries) paths(v, [...at, Array.isArray(j) ? Number(k) : k], out);
    }
    return out;
  }

  it('600 seeded single-field corruptions: loads and round-trips, or TokenizerError', () => {
    const all = paths(VALID).filter((p) => p.length > 0);
    const rand = mulberry32(5);
    let refused = 0;
    for (let k = 0; k < 600; k++) {
      const j = JSON.parse(VALID_TEXT) as Json;
      const path = all[Math.floor(rand() * all.length)];
      let node: Json = j;
      for (const key of path.slice(0, -1)) node = node[key];
      const last = path[path.length - 1];
      if (rand() < 0.15) delete node[last];
      else node[last] = JUNK[Math.floor(rand() * JUNK.length)];
      try {
        const tok = fromTokenizerJson(JSON.stringify(j));
        const text = 'hello world! <|endoftext|> 😀';
        tok.decode(tok.encode(text));
      } catch (e) {
        expect(e, `${path.join('.')}: ${(e as Error).message}`).toBeInstanceOf(TokenizerError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(60);
  });
});
