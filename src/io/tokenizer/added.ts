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

const SYNTAX = /[\\^$.*+?()[\]{}|/]/g;
const isWhitespace = (ch: string): boolean => /^\p{White_Space}$/u.test(ch);

/** One pass: a regex over the contents, longest first, so the first alternative that fits is the longest. */
class Pass {
  private readonly byContent = new Map<string, AddedToken>();
  private readonly pattern: RegExp | null;

  constructor(tokens: readonly AddedToken[]) {
    for (const t of tokens) this.byContent.set(t.content, t);
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    this.pattern = contents.length === 0 ? null : new RegExp(contents.map((c) => c.replace(SYNTAX, '\\$&')).join('|'), 'gu');
  }

  split(text: string, out: Segment[]): void {
    if (this.pattern === null) {
      if (text.length > 0) out.push({ text });
      return;
    }
    const found: { start: number; end: number; token: AddedToken }[] = [];
    for (const m of text.matchAll(this.pattern)) {
      const start = m.index;
      found.push({ start, end: start + m[0].length, token: this.byContent.get(m[0]) as AddedToken });
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
