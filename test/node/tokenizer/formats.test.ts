// The three ways a GPT-2 tokenizer arrives — tokenizer.json with "a b" merges, tokenizer.json with [a, b]
// merges, vocab.json + merges.txt — give identical tokenizers; merge order on adversarial merge lists
// matches the oracle; eos/bos lookup.
import { beforeAll, describe, expect, it } from 'vitest';
import { BYTE_ALPHABET, fromTokenizerJson, fromTokenizerObject, fromVocabMerges, type ByteLevelBpeTokenizer } from '../../../src/io/tokenizer';
import { mulberry32 } from '../../helpers/random';
import { makeOracle, oracleEncode, randomStrings, train, type Trained } from './fixture';

let t: Trained;
let samples: string[];

beforeAll(() => {
  t = train(1500, 300_000, 2);
  samples = [...t.paragraphs.slice(0, 300), ...randomStrings(500, mulberry32(21)), '<|endoftext|>a<|endoftext|>', ''];
});

/** GPT-2's files: vocab.json (token → id, <|endoftext|> included) and merges.txt under a #version line. */
function vocabMergesTexts(json: Trained['json'], crlf = false): [string, string] {
  const nl = crlf ? '\r\n' : '\n';
  return [JSON.stringify(json.model.vocab), `#version: 0.2${nl}${json.model.merges.join(nl)}${nl}`];
}

function expectSameTokenizer(a: ByteLevelBpeTokenizer, b: ByteLevelBpeTokenizer): void {
  expect(b.vocabSize).toBe(a.vocabSize);
  expect(b.eosTokenId).toBe(a.eosTokenId);
  for (const s of samples) {
    const ids = a.encode(s);
    expect(b.encode(s)).toEqual(ids);
    expect(b.decode(ids)).toBe(a.decode(ids));
  }
}

describe('merges formats and file pairs give identical results', () => {
  it('tokenizer.json with [a, b] pair merges equals the "a b" string form (ours and the oracle)', () => {
    const pairs = structuredClone(t.json) as unknown as { model: { merges: unknown[] } };
    pairs.model.merges = t.json.model.merges.map((m) => m.split(' '));
    const ours = fromTokenizerJson(JSON.stringify(pairs));
    expectSameTokenizer(t.ours, ours);
    const oracle = makeOracle(pairs);
    for (const s of samples.slice(0, 200)) expect(ours.encode(s)).toEqual(oracleEncode(oracle, s));
  });

  it('vocab.json + merges.txt equals tokenizer.json, <|endoftext|> special by default (LF and CRLF)', () => {
    for (const crlf of [false, true]) {
      const [vocab, merges] = vocabMergesTexts(t.json, crlf);
      const ours = fromVocabMerges(vocab, merges);
      expectSameTokenizer(t.ours, ours);
      expect(ours.encode('<|endoftext|>')).toEqual([ours.eosTokenId]);
    }
  });

  it('merges.txt without a final newline, or without the #version line, reads the same', () => {
    const [vocab, merges] = vocabMergesTexts(t.json);
    expectSameTokenizer(t.ours, fromVocabMerges(vocab, merges.trimEnd()));
    expectSameTokenizer(t.ours, fromVocabMerges(vocab, merges.slice(merges.indexOf('\n') + 1)));
  });

  it('vocab.json + merges.txt: specialTokens [] leaves <|endoftext|> to BPE; addPrefixSpace is honoured', () => {
    const [vocab, merges] = vocabMergesTexts(t.json);
    const plain = fromVocabMerges(vocab, merges, { specialTokens: [] });
    expect(plain.encode('<|endoftext|>').length).toBeGreaterThan(1);
    const prefixed = fromVocabMerges(vocab, merges, { addPrefixSpace: true });
    expect(prefixed.encode('Hello')).toEqual(t.ours.encode(' Hello'));
  });
  it('ignore_merges: a word that is itself a token skips the merges (ours and the oracle)', () => {
    const json = structuredClone(t.json) as unknown as { model: { vocab: Record<string, number>; ignore_merges: boolean } };
    json.model.ignore_merges = true;
    json.model.vocab['Ġzzqx'] = Object.keys(json.model.vocab).length; // reachable only as a whole word
    const ours = fromTokenizerObject(json);
    const oracle = makeOracle(json);
    expect(ours.encode(' zzqx')).toEqual([json.model.vocab['Ġzzqx']]);
    for (const s of [' zzqx zzqx', ...samples.slice(0, 200)]) expect(ours.encode(s)).toEqual(oracleEncode(oracle, s));
  });
});

describe('BPE merge order on adversarial merge lists (ranks in random order) matches the oracle', () => {
  /** A byte vocabulary plus random merges over tokens made of 'a', 'b', 'c', ranks shuffled. */
  function randomBpe(seed: number): object {
    const rand = mulberry32(seed);
    const vocab: Record<string, number> = {};
    BYTE_ALPHABET.forEach((c, i) => (vocab[c] = i));
    const pool = ['a', 'b', 'c', 'Ġ'];
    const merges: string[] = [];
    const seen = new Set<string>();
    for (let k = 0; k < 60; k++) {
      const left = pool[Math.floor(rand() * pool.length)];
      const right = pool[Math.floor(rand() * pool.length)];
      const m = `${left} ${right}`;
      if (seen.has(m) || (left + right).length > 6) continue;
      seen.add(m);
      merges.splice(Math.floor(rand() * (merges.length + 1)), 0, m); // random rank
      if (!(left + right in vocab)) {
        vocab[left + right] = Object.keys(vocab).length;
        pool.push(left + right);
      }
    }
    return {
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, vocab, merges },
    };
  }

  it('40 random merge lists × 100 strings over {a, b, c, space}', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const json = randomBpe(seed);
      const ours = fromTokenizerObject(json);
      const oracle = makeOracle(json);
      const rand = mulberry32(1000 + seed);
      for (let k = 0; k < 100; k++) {
        const s = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => 'abc '[Math.floor(rand() * 4)]).join('');
        expect(ours.encode(s), `seed ${seed} ${JSON.stringify(s)}`).toEqual(oracleEncode(oracle, s));
        expect(ours.decode(ours.encode(s))).toBe(s);
      }
    }
  });
});

describe('eos / bos ids', () => {
  it('GPT-2: <|endoftext|> is both; explicit names override; absent names give null', () => {
    expect(t.ours.eosTokenId).toBe(t.ours.tokenToId('<|endoftext|>'));
    expect(t.ours.bosTokenId).toBe(t.ours.eosTokenId);
    const space = t.ours.tokenToId('Ġ') as number;
    const named = fromTokenizerJson(t.text, 'tokenizer.json', { eosToken: 'Ġ', bosToken: 'Ġ' });
    expect([named.eosTokenId, named.bosTokenId]).toEqual([space, space]);
    const json = structuredClone(t.json) as unknown as { added_tokens: unknown[]; model: { vocab: Record<string, number> } };
    json.added_tokens = [];
    delete json.model.vocab['<|endoftext|>'];
    const none = fromTokenizerObject(json);
    expect([none.eosTokenId, none.bosTokenId, none.vocabSize]).toEqual([null, null, t.ours.vocabSize - 1]);
  });

  it('tokenToId / idToTokenString are inverse on the whole vocabulary', () => {
    for (let id = 0; id < t.ours.vocabSize; id++) {
      expect(t.ours.tokenToId(t.ours.idToTokenString(id) as string)).toBe(id);
    }
    expect(t.ours.idToTokenString(t.ours.vocabSize)).toBeUndefined();
  });
});
