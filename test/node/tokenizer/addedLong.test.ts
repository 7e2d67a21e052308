// Added tokens as a hostile tokenizer.json may hold them: a ~90 000-character added token used to make
// the splitter's one big RegExp "too large" for V8 on any non-Latin-1 text, so every dataset was refused.
// The indexOf scan that replaced it must split as the RegExp did (leftmost, then longest, code point
// boundaries): checked against that RegExp, rebuilt here, on seeded random texts with surrogates.
import { describe, expect, it } from 'vitest';
import { AddedTokenSplitter, type AddedToken, type Segment } from '../../../src/io/tokenizer/added';
import { mulberry32 } from '../../helpers/random';

const tok = (id: number, content: string, normalized = false): AddedToken => ({ id, content, special: false, lstrip: false, rstrip: false, normalized });

/** The RegExp form (as HF's leftmost-longest), for tokens of one pass with no lstrip/rstrip. */
function regexSplit(tokens: AddedToken[], text: string): Segment[] {
  const by = new Map(tokens.map((t) => [t.content, t]));
  const contents = [...by.keys()].filter((c) => c !== '').sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const out: Segment[] = [];
  if (contents.length === 0) return text ? [{ text }] : [];
  const re = new RegExp(contents.map((c) => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'), 'gu');
  let cursor = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > cursor) out.push({ text: text.slice(cursor, m.index) });
    out.push({ token: by.get(m[0]) as AddedToken });
    cursor = m.index + m[0].length;
  }
  if (cursor < text.length) out.push({ text: text.slice(cursor) });
  return out;
}

describe('added tokens', () => {
  it('splits around a 90 000-character added token in non-Latin-1 text', () => {
    const huge = '<img src=x onerror=window.__xss=1> | '.repeat(2500);
    const s = new AddedTokenSplitter([tok(256, huge), tok(257, '<|endoftext|>')]);
    const text = `héllo ‮ 😀 ${huge}<|endoftext|> wörld`;
    expect(s.split(text)).toEqual([{ text: 'héllo ‮ 😀 ' }, { token: tok(256, huge) }, { token: tok(257, '<|endoftext|>') }, { text: ' wörld' }]);
    expect(s.split('ünïcödé only')).toEqual([{ text: 'ünïcödé only' }]);
  });

  it('splits as the leftmost-longest RegExp did, on random texts and token sets', () => {
    const rng = mulberry32(14);
    const alphabet = ['a', 'b', '<', '|', '.', '\ud83d', '\ude00', '😀', 'é', ' '];
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
    for (let trial = 0; trial < 2000; trial++) {
      const tokens = Array.from({ length: 1 + Math.floor(rng() * 4) }, (_, i) => tok(100 + i, word(1 + Math.floor(rng() * 3))));
      const unique = [...new Map(tokens.map((t) => [t.content, t])).values()];
      const text = word(Math.floor(rng() * 24));
      expect(new AddedTokenSplitter(unique).split(text), `${JSON.stringify(unique.map((t) => t.content))} in ${JSON.stringify(text)}`).toEqual(regexSplit(unique, text));
    }
  });
});
