// A byte-level BPE trainer producing a HF tokenizer.json (the demo GPT-2's tokenizer).
//
// As HF's BpeTrainer: pre-tokenize every text with the ByteLevel pre-tokenizer, count unique words, then
// repeatedly merge the most frequent adjacent pair. Pair counts and the words holding each pair are
// updated incrementally, and a max-heap with lazy re-validation picks the next pair, so a merge costs only
// the words that contain it.
//
// Conventions (fixed, so that training is deterministic and GPT-2-like):
//  - ids: the 256 byte tokens first, in code-point order (GPT-2's order), then merges in creation order,
//    then the special tokens in the order given. With the default list `<|endoftext|>` is the LAST id,
//    as in GPT-2 (50256); HF's trainer would put special tokens first.
//  - ties: among pairs of equal count the one with the smaller left id wins, then the smaller right id.
//  - special tokens are cut out of the training texts before pre-tokenization, so no merge spans them;
//    a merge whose result would spell a special token is skipped (the two would share one string).
//  - training stops early when no pair is left (or the best count is below minFrequency): the
//    vocabulary may then be smaller than asked, and the special tokens still take the last ids.

import { AddedTokenSplitter } from './added';
import { BYTE_ALPHABET, toByteLevel } from './bytes';
import { TokenizerError } from './errors';
import { MinHeap } from './heap';
import { splitWords } from './pretokenize';

export interface TrainOptions {
  /** Added special tokens, given the last ids in this order; default `['<|endoftext|>']`. */
  specialTokens?: readonly string[];
  /** Stop when the most frequent pair occurs fewer times than this; default 2 (a pair seen once teaches nothing). */
  minFrequency?: number;
}

/** The tokenizer.json this trainer writes (a subset of HF's schema, readable by tokenizers ≥ 0.10). */
export interface TrainedTokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: { id: number; content: string; single_word: false; lstrip: false; rstrip: false; normalized: false; special: true }[];
  normalizer: null;
  pre_tokenizer: { type: 'ByteLevel'; add_prefix_space: false; trim_offsets: true; use_regex: true };
  post_processor: { type: 'ByteLevel'; add_prefix_space: true; trim_offsets: false; use_regex: true };
  decoder: { type: 'ByteLevel'; add_prefix_space: true; trim_offsets: true; use_regex: true };
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: false;
    byte_fallback: false;
    vocab: Record<string, number>;
    /** "left right" strings: the older form, read by every tokenizers version (ByteLevel tokens hold no space). */
    merges: string[];
  };
}

/** Largest vocabulary the trainer builds; pair keys are left·STRIDE + right. */
export const MAX_TRAIN_VOCAB = 1 << 20;
const STRIDE = MAX_TRAIN_VOCAB;

interface PairEntry {
  count: number;
  a: number;
  b: number;
}

/** Trains a GPT-2 style byte-level BPE of `vocabSize` tokens (bytes + merges + special tokens). */
export function trainByteLevelBpe(texts: readonly string[], vocabSize: number, opts: TrainOptions = {}): TrainedTokenizerJson {
  const specials = opts.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = opts.minFrequency ?? 2;
  checkArgs(texts, vocabSize, specials, minFrequency);
  const words = countWords(texts, specials);
  const state = new PairState(words);
  const tokens = [...BYTE_ALPHABET];
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const merges: string[] = [];
  const reserved = new Set(specials);
  while (tokens.length < vocabSize - specials.length) {
    const best = state.popBest();
    if (best === undefined || best.count < minFrequency) break;
    const merged = tokens[best.a] + tokens[best.b];
    if (reserved.has(merged)) {
      state.ban(best);
      continue;
    }
    let c = ids.get(merged);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(merged);
      ids.set(merged, c);
    }
    merges.push(`${tokens[best.a]} ${tokens[best.b]}`);
    state.apply(best, c);
  }
  return toJson(tokens, merges, specials);
}

function checkArgs(texts: readonly string[], vocabSize: number, specials: readonly string[], minFrequency: number): void {
  const fail = (detail: string): never => {
    throw new TokenizerError('TRAIN_TOKENIZER', 'trainer', detail);
  };
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) fail('texts must be an array of strings');
  if (!Array.isArray(specials) || specials.some((s) => typeof s !== 'string' || s.length === 0)) {
    fail('specialTokens must be non-empty strings');
  }
  if (new Set(specials).size !== specials.length) fail('specialTokens repeats a token');
  const byteToken = specials.find((s) => BYTE_ALPHABET.includes(s));
  if (byteToken !== undefined) fail(`special token ${JSON.stringify(byteToken)} is also a byte token`);
  const min = 256 + specials.length;
  if (!Number.isInteger(vocabSize) || vocabSize < min || vocabSize > MAX_TRAIN_VOCAB) {
    fail(`vocabSize is ${vocabSize}; it must be an integer from ${min} (256 bytes + special tokens) to ${MAX_TRAIN_VOCAB}`);
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) fail(`minFrequency is ${minFrequency}; it must be an integer ≥ 1`);
}

/** Unique byte-level words with their counts, special tokens cut out first. */
function countWords(texts: readonly string[], specials: readonly string[]): Map<string, number> {
  const splitter = new AddedTokenSplitter(
    specials.map((content, id) => ({ id, content, special: true, lstrip: false, rstrip: false, normalized: false })),
  );
  const counts = new Map<string, number>();
  const opts = { addPrefixSpace: false, useRegex: true };
  for (const text of texts) {
    for (const seg of splitter.split(text)) {
      if (seg.text === undefined) continue;
      for (const w of splitWords(seg.text, opts)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const byteLevel = new Map<string, number>();
  for (const [w, n] of counts) {
    const bl = toByteLevel(w);
    byteLevel.set(bl, (byteLevel.get(bl) ?? 0) + n);
  }
  return byteLevel;
}

/** Words as symbol-id arrays, pair counts, the words holding each pair, and the heap of candidates. */
class PairState {
  private readonly syms: number[][] = [];
  private readonly freq: number[] = [];
  private readonly counts = new Map<number, number>();
  /** Word indices that held the pair when it was last added; may repeat or be out of date (checked on use). */
  private readonly where = new Map<number, number[]>();
  private readonly banned = new Set<number>();
  private readonly heap = new MinHeap<PairEntry>(
    (x, y) => x.count > y.count || (x.count === y.count && (x.a < y.a || (x.a === y.a && x.b < y.b))),
  );

  constructor(words: ReadonlyMap<string, number>) {
    const byteId = new Map(BYTE_ALPHABET.map((t, i) => [t, i]));
    for (const [word, n] of words) {
      const wi = this.syms.length;
      const s = Array.from(word, (ch) => byteId.get(ch) as number);
      this.syms.push(s);
      this.freq.push(n);
      for (let i = 0; i + 1 < s.length; i++) this.add(s[i] * STRIDE + s[i + 1], n, wi);
    }
    for (const [key, count] of this.counts) this.heap.push({ count, a: Math.floor(key / STRIDE), b: key % STRIDE });
  }

  /** The most frequent pair with its current count; stale heap entries are refreshed on the way. */
  popBest(): PairEntry | undefined {
    for (let e = this.heap.pop(); e !== undefined; e = this.heap.pop()) {
      const key = e.a * STRIDE + e.b;
      const now = this.banned.has(key) ? 0 : (this.counts.get(key) ?? 0);
      if (now === e.count) return e;
      if (now > 0) this.heap.push({ count: now, a: e.a, b: e.b });
    }
    return undefined;
  }

  ban(e: PairEntry): void {
    this.banned.add(e.a * STRIDE + e.b);
  }

  /** Replaces every (a, b) by c in the words holding it; re-queues the pairs that involve c. */
  apply(e: PairEntry, c: number): void {
    const key = e.a * STRIDE + e.b;
    const changed = new Set<number>();
    for (const wi of this.where.get(key) ?? []) this.mergeWord(wi, e.a, e.b, c, changed);
    this.where.delete(key);
    this.counts.delete(key);
    for (const k of changed) {
      const count = this.counts.get(k) ?? 0;
      if (count > 0 && !this.banned.has(k)) this.heap.push({ count, a: Math.floor(k / STRIDE), b: k % STRIDE });
    }
  }

  /** Recounts one word's pairs around the merge: old pairs out, new pairs in (only those with c can grow). */
  private mergeWord(wi: number, a: number, b: number, c: number, changed: Set<number>): void {
    const s = this.syms[wi];
    let hit = false;
    for (let i = 0; i + 1 < s.length && !hit; i++) hit = s[i] === a && s[i + 1] === b;
    if (!hit) return;
    const n = this.freq[wi];
    for (let i = 0; i + 1 < s.length; i++) this.add(s[i] * STRIDE + s[i + 1], -n, -1);
    const t: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
        t.push(c);
        i++;
      } else t.push(s[i]);
    }
    for (let i = 0; i + 1 < t.length; i++) {
      const k = t[i] * STRIDE + t[i + 1];
      const withC = t[i] === c || t[i + 1] === c;
      this.add(k, n, withC ? wi : -1);
      if (withC) changed.add(k);
    }
    this.syms[wi] = t;
  }

  /** counts[key] += delta; a word index ≥ 0 is recorded as holding the pair. */
  private add(key: number, delta: number, wi: number): void {
    const next = (this.counts.get(key) ?? 0) + delta;
    if (next > 0) this.counts.set(key, next);
    else this.counts.delete(key);
    if (wi < 0) return;
    const list = this.where.get(key);
    if (list === undefined) this.where.set(key, [wi]);
    else if (list[list.length - 1] !== wi) list.push(wi);
  }
}

function toJson(tokens: readonly string[], merges: string[], specials: readonly string[]): TrainedTokenizerJson {
  // Prototype-free, so that a learned token spelled `__proto__` is an ordinary key.
  const vocab: Record<string, number> = Object.create(null);
  tokens.forEach((t, id) => (vocab[t] = id));
  const added = specials.map((content, k) => ({
    id: tokens.length + k,
    content,
    single_word: false as const,
    lstrip: false as const,
    rstrip: false as const,
    normalized: false as const,
    special: true as const,
  }));
  for (const t of added) vocab[t.content] = t.id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
