// LM sequences: windows over plain text, and prompt-masked instruction examples, checked position by
// position with a toy character tokenizer and with the real demo GPT-2 tokenizer.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IGNORE_INDEX,
  alpacaPrompt,
  buildLmSequences,
  lmTokenizer,
  parseTextDataset,
  type LmTokenizer,
  type TextDataset,
  type TextExample,
} from '../../../src/io/datasets';
import { fromTokenizerJson } from '../../../src/io/tokenizer';
import { XSS, catchDatasetError, enc } from './helpers';

const M = IGNORE_INDEX;
/** One token per character (its code point); EOS = 1. */
const charTok: LmTokenizer = { encode: (s) => [...s].map((c) => c.codePointAt(0)!), eosId: 1 };
const cps = (s: string) => [...s].map((c) => c.codePointAt(0)!);

function dataset(format: TextDataset['format'], examples: TextExample[]): TextDataset {
  return { kind: 'text', file: `toy.${format}`, format, examples, rejected: [] };
}
const plain = (ids: Uint32Array[], labels: Int32Array[]) => ({ ids: ids.map((a) => [...a]), labels: labels.map((a) => [...a]) });

describe('txt windows (T + 1 tokens, stride T)', () => {
  it('cuts an exact multiple into full windows', () => {
    const s = buildLmSequences(dataset('txt', [{ prompt: '', completion: 'abcdefg' }]), charTok, 3);
    expect(plain(s.ids, s.labels)).toEqual({
      ids: [cps('abc'), cps('def')],
      labels: [cps('bcd'), cps('efg')],
    });
    expect([s.tokenCount, s.trainedTokens, s.truncated, s.dropped]).toEqual([7, 6, 0, 0]);
  });

  it('pads the last window with EOS ids and -100 labels', () => {
    const s = buildLmSequences(dataset('txt', [{ prompt: '', completion: 'abcdefgh' }]), charTok, 3);
    expect(plain(s.ids, s.labels)).toEqual({
      ids: [cps('abc'), cps('def'), [...cps('gh'), 1]],
      labels: [cps('bcd'), cps('efg'), [...cps('h'), M, M]],
    });
    expect(s.trainedTokens).toBe(7);
  });

  it('pads with 0 when the tokenizer has no EOS; appends no EOS to plain text', () => {
    const s = buildLmSequences(dataset('txt', [{ prompt: '', completion: 'abcd' }]), { ...charTok, eosId: null }, 5);
    expect(plain(s.ids, s.labels)).toEqual({ ids: [[...cps('abcd'), 0]], labels: [[...cps('bcd'), M, M]] });
  });

  it('needs at least 2 tokens', () => {
    expect(catchDatasetError(() => buildLmSequences(dataset('txt', [{ prompt: '', completion: 'a' }]), charTok, 4)).code).toBe('DATA_EMPTY');
  });

  it('every token after the first is a label exactly once', () => {
    const text = 'the quick brown fox jumps over the lazy dog'.repeat(7);
    for (const T of [1, 2, 5, 16, 64, 1000]) {
      const s = buildLmSequences(dataset('txt', [{ prompt: '', completion: text }]), charTok, T);
      const trained = s.labels.flatMap((l) => [...l].filter((x) => x !== M));
      expect(trained).toEqual(cps(text).slice(1));
      expect(s.ids.every((a) => a.length === T) && s.labels.every((a) => a.length === T)).toBe(true);
    }
  });

  it('refuses a bad T', () => {
    for (const T of [0, -1, 2.5, NaN]) {
      expect(catchDatasetError(() => buildLmSequences(dataset('txt', [{ prompt: '', completion: 'abc' }]), charTok, T)).code).toBe('DATA_ARGS');
    }
  });
});

describe('examples: prompt + completion + EOS, prompt targets masked', () => {
  it('masks exactly the positions that predict prompt tokens, and the padding', () => {
    const s = buildLmSequences(dataset('jsonl', [{ prompt: 'ab', completion: 'xyz' }]), charTok, 8);
    expect(plain(s.ids, s.labels)).toEqual({
      ids: [[...cps('abxyz'), 1, 1, 1]],
      labels: [[M, ...cps('xyz'), 1, M, M, M]],
    });
    expect([s.tokenCount, s.trainedTokens, s.truncated, s.dropped]).toEqual([6, 4, 0, 0]);
  });

  it('trains every position of a plain-text example', () => {
    const s = buildLmSequences(dataset('csv', [{ prompt: '', completion: 'hi' }]), charTok, 4);
    expect(plain(s.ids, s.labels)).toEqual({ ids: [[...cps('hi'), 1, 1]], labels: [[...cps('i'), 1, M, M]] });
  });

  it('truncates long examples to T + 1 tokens', () => {
    const s = buildLmSequences(dataset('jsonl', [{ prompt: 'ab', completion: 'xyz' }]), charTok, 3);
    expect(plain(s.ids, s.labels)).toEqual({ ids: [cps('abx')], labels: [[M, ...cps('xy')]] });
    expect([s.tokenCount, s.trainedTokens, s.truncated]).toEqual([6, 2, 1]);
  });

  it('keeps a prompt of exactly T tokens (one trained label) and drops a longer one', () => {
    const ds = dataset('jsonl', [
      { prompt: 'abc', completion: 'x' },
      { prompt: 'abcd', completion: 'x' },
    ]);
    const s = buildLmSequences(ds, charTok, 3);
    expect(plain(s.ids, s.labels)).toEqual({ ids: [cps('abc')], labels: [[M, M, ...cps('x')]] });
    expect([s.truncated, s.dropped]).toEqual([2, 1]);
  });

  it('fails with "0 usable examples" when every prompt fills the context', () => {
    const e = catchDatasetError(() => buildLmSequences(dataset('jsonl', [{ prompt: 'abcdef', completion: 'x' }]), charTok, 4));
    expect(e.code).toBe('DATA_EMPTY');
    expect(e.message).toContain('0 usable examples (1 truncated or filtered');
  });
});

describe('with the demo GPT-2 tokenizer', () => {
  const json = readFileSync(resolve(__dirname, '../../../public/demo/gpt2-fortunes/tokenizer.json'), 'utf8');
  const bpe = fromTokenizerJson(json, 'tokenizer.json');
  const tok = lmTokenizer(bpe);

  it('adapts ByteLevelBpeTokenizer: eosTokenId is <|endoftext|>', () => {
    expect(tok.eosId).toBe(bpe.eosTokenId);
    expect(tok.eosId).not.toBeNull();
    expect(bpe.decode([tok.eosId!])).toBe('<|endoftext|>');
  });

  it('masks the Alpaca prompt and trains output + EOS, position by position', () => {
    const rows = [
      { instruction: 'Tell me my fortune.', output: 'You will find a coin.' },
      { instruction: 'Translate.', input: 'Good luck!', output: 'Bonne chance !' },
    ];
    const ds = parseTextDataset(enc(rows.map((r) => JSON.stringify(r)).join('\n')), 'f.jsonl');
    const T = 128;
    const s = buildLmSequences(ds, tok, T);
    expect(s.ids).toHaveLength(2);
    let tokens = 0;
    rows.forEach((row, k) => {
      const p = bpe.encode(alpacaPrompt(row.instruction, row.input));
      const c = bpe.encode(row.output);
      const seq = [...p, ...c, tok.eosId!];
      expect(seq.length).toBeLessThanOrEqual(T);
      tokens += seq.length;
      const wantLabels = Array.from({ length: T }, (_, j) => (j >= p.length - 1 && j < seq.length - 1 ? seq[j + 1] : M));
      const wantIds = Array.from({ length: T }, (_, j) => (j < seq.length ? seq[j] : tok.eosId!));
      expect([...s.labels[k]]).toEqual(wantLabels);
      expect([...s.ids[k]]).toEqual(wantIds);
      const masked = [...s.labels[k]].map((l, j) => (l === M ? j : -1)).filter((j) => j >= 0);
      expect(masked).toEqual([...Array.from({ length: p.length - 1 }, (_, j) => j), ...Array.from({ length: T - seq.length + 1 }, (_, j) => seq.length - 1 + j)]);
      const trained = [...s.labels[k]].filter((l) => l !== M);
      expect(bpe.decode(trained)).toBe(`${row.output}<|endoftext|>`);
      expect(bpe.decode(s.ids[k].subarray(0, p.length))).toBe(alpacaPrompt(row.instruction, row.input));
    });
    expect(s.tokenCount).toBe(tokens);
  });

  it('windows a txt file and round-trips its text', () => {
    const text = 'A journey of a thousand miles begins with a single step.\nFortune favours the bold.\n'.repeat(5);
    const ds = parseTextDataset(enc(text), 'f.txt');
    const s = buildLmSequences(ds, tok, 16);
    const stream = bpe.encode(text);
    expect(s.tokenCount).toBe(stream.length);
    expect(s.ids).toHaveLength(Math.ceil((stream.length - 1) / 16));
    const trained = s.labels.flatMap((l) => [...l].filter((x) => x !== M));
    expect(trained).toEqual(stream.slice(1));
    expect(bpe.decode(s.ids.flatMap((a) => [...a]).slice(0, stream.length))).toBe(text);
  });

  it.each(XSS)('script payload %s survives tokenisation unchanged', (payload) => {
    const ds = parseTextDataset(enc(JSON.stringify({ instruction: 'Echo', output: payload })), 'x.jsonl');
    const s = buildLmSequences(ds, tok, 256);
    expect(bpe.decode([...s.labels[0]].filter((l) => l !== M))).toBe(`${payload}<|endoftext|>`);
  });
});
