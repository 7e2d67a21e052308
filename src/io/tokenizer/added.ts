// Added tokens (`added_tokens` in tokenizer.json, e.g. `<|endoftext|>`): found in the raw text before
// pre-tokenization and emitted whole, never split by the regex or by BPE.
//
// As in HF tokenizers (added_vocabulary.rs): matching is leftmost-longest and non-overlapping; tokens with
// `normalized: false` (special tokens by default) are extracted in a first pass, the others in a second
// pass over what is left; `lstrip` / `rstrip` make a match swallow the whitespace on that side.

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
}

/** A piece of input: plain text for the pre-tokenizer, or one added token. */
export type Segment = { text: string; token?: undefined } | { token: AddedToken; text?: undefined };

const isWhitespace = (ch: string): boolean => /^\p{White_Space}$/u.test(ch);
const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
/** Whether index i falls between the two halves of a surrogate pair (not a code point boundary). */
const splitsPair = (text: string, i: number): boolean => i > 0 && i < text.length && isHigh(text.charCodeAt(i - 1)) && isLow(text.charCodeAt(i));

/**
 * One pass: leftmost match first, the longest content at that position, then on from its end. A scan with
 * indexOf rather than one RegExp alternation of all contents: V8 refuses such a RegExp as "too large"
 * once the contents are long (a hostile tokenizer.json), and every text would then fail to encode.
 * Matches start and end on code point boundaries, as a `u` RegExp's would.
 */
class Pass {
  private readonly byContent = new Map<string, AddedToken>();
  private readonly contents: string[];

  constructor(tokens: readonly AddedToken[]) {
    for (const t of tokens) this.byContent.set(t.content, t);
    this.contents = [...this.byContent.keys()].filter((c) => c !== '');
  }

  private static find(text: string, content: string, from: number): number {
    let j = text.indexOf(content, from);
    while (j !== -1 && (splitsPair(text, j) || splitsPair(text, j + content.length))) j = text.indexOf(content, j + 1);
    return j;
  }

  split(text: string, out: Segment[]): void {
    const found: { start: number; end: number; token: AddedToken }[] = [];
    // next[i]: where contents[i] next occurs at or after the cursor (-1: nowhere); refreshed only when passed.
    const next = this.contents.map((c) => Pass.find(text, c, 0));
    let from = 0;
    for (;;) {
      let best = -1;
      let bestContent = '';
      this.contents.forEach((c, i) => {
        if (next[i] !== -1 && next[i] < from) next[i] = Pass.find(text, c, from);
        const at = next[i];
        if (at !== -1 && (best === -1 || at < best || (at === best && c.length > bestContent.length))) {
          best = at;
          bestContent = c;
        }
      });
      if (best === -1) break;
      found.push({ start: best, end: best + bestContent.length, token: this.byContent.get(bestContent) as AddedToken });
      from = best + bestContent.length;
    }
    let cursor = 0;
    found.forEach((f, k) => {
      if (f.token.lstrip) while (f.start > cursor && isWhitespace(text[f.start - 1])) f.start--;
      const limit = k + 1 < found.length ? found[k + 1].start : text.length;
      if (f.token.rstrip) while (f.end < limit && isWhitespace(text[f.end])) f.end++;
      if (f.start > cursor) out.push({ text: text.slice(cursor, f.start) });
      out.push({ token: f.token });
      cursor = f.end;
    });
    if (cursor < text.length) out.push({ text: text.slice(cursor) });
  }
}

export class AddedTokenSplitter {
  private readonly raw: Pass;
  private readonly normalized: Pass;

  constructor(tokens: readonly AddedToken[]) {
    this.raw = new Pass(tokens.filter((t) => !t.normalized));
    this.normalized = new Pass(tokens.filter((t) => t.normalized));
  }

  /** Text and added-token segments in input order; text segments are never empty. */
  split(text: string): Segment[] {
    const first: Segment[] = [];
    this.raw.split(text, first);
    const out: Segment[] = [];
    for (const seg of first) {
      if (seg.token !== undefined) out.push(seg);
      else this.normalized.split(seg.text, out);
    }
    return out;
  }
}
