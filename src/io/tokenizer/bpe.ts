// The BPE model over byte-level words: merge adjacent symbols by rank, with a word cache.
//
// Merge order is HF tokenizers' (models/bpe/word.rs `merge_all`): always apply the lowest-ranked merge
// present, and among equal ranks the leftmost. A heap keyed (rank, position) makes long words (a run of
// 10,000 spaces, an unbroken CJK paragraph) cost O(n log n) instead of O(n²).

import { BYTE_TO_CHAR, toByteLevel } from './bytes';
import { MinHeap } from './heap';

export interface BpeModelSpec {
  /** Token string (byte-level form) → id. */
  vocab: ReadonlyMap<string, number>;
  /** Merges in rank order, as ids: [left, right, result]. Validated by the loader. */
  merges: ReadonlyArray<readonly [number, number, number]>;
  /** Id for byte characters missing from the vocabulary; null drops them, as HF does without unk. */
  unkId: number | null;
  /** Consecutive unknown characters become one unk (HF `fuse_unk`). */
  fuseUnk: boolean;
  /** A word that is itself a vocabulary token skips the merges (HF `ignore_merges`, Llama 3 style). */
  ignoreMerges: boolean;
}

/** HF caches words up to this many characters, in a cache of this many entries. */
const CACHE_MAX_WORD = 256;
const CACHE_CAPACITY = 10_000;

const utf8 = new TextEncoder();

export class BpeModel {
  /** left·stride + right → rank; the rank indexes `result`. Last duplicate wins, as in HF. */
  private readonly ranks = new Map<number, number>();
  private readonly result: Int32Array;
  private readonly stride: number;
  /** Vocabulary id of each byte's character, or -1 when the vocabulary lacks it. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly cache = new Map<string, readonly number[]>();

  constructor(private readonly spec: BpeModelSpec) {
    let maxId = 0;
    for (const id of spec.vocab.values()) maxId = Math.max(maxId, id);
    this.stride = maxId + 1;
    this.result = new Int32Array(spec.merges.length);
    spec.merges.forEach(([a, b, c], rank) => {
      this.ranks.set(a * this.stride + b, rank);
      this.result[rank] = c;
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = spec.vocab.get(BYTE_TO_CHAR[b]) ?? -1;
  }

  /** Appends the ids of one pre-tokenized word (ordinary text, not yet byte-level). */
  encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.encodeUncached(word);
      if (word.length <= CACHE_MAX_WORD) {
        // Clearing beats LRU bookkeeping here: a corpus re-fills the frequent words within a few lines.
        if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
        this.cache.set(word, ids);
      }
    }
    for (const id of ids) out.push(id);
  }

  private encodeUncached(word: string): number[] {
    if (this.spec.ignoreMerges) {
      const whole = this.spec.vocab.get(toByteLevel(word));
      if (whole !== undefined) return [whole];
    }
    return this.merge(this.initialSymbols(word));
  }

  /** One symbol per UTF-8 byte; bytes without a vocabulary entry become unk or are dropped. */
  private initialSymbols(word: string): number[] {
    const { unkId, fuseUnk } = this.spec;
    const syms: number[] = [];
    let prevUnk = false;
    for (const b of utf8.encode(word)) {
      const id = this.byteIds[b];
      if (id >= 0) {
        syms.push(id);
        prevUnk = false;
      } else if (unkId !== null && !(fuseUnk && prevUnk)) {
        syms.push(unkId);
        prevUnk = true;
      }
    }
    return syms;
  }

  /** Applies merges lowest rank first, leftmost first among equal ranks; heap keys are rank·n + position. */
  private merge(sym: number[]): number[] {
    const n = sym.length;
    if (n < 2) return sym;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap<number>((a, b) => a < b);
    const consider = (i: number): void => {
      const j = next[i];
      if (j < 0) return;
      const rank = this.ranks.get(sym[i] * this.stride + sym[j]);
      if (rank !== undefined) heap.push(rank * n + i);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    for (let key = heap.pop(); key !== undefined; key = heap.pop()) {
      const i = key % n;
      const rank = (key - i) / n;
      const j = next[i];
      // Stale entry: the left symbol was absorbed, or either side changed since it was pushed.
      if (sym[i] < 0 || j < 0 || this.ranks.get(sym[i] * this.stride + sym[j]) !== rank) continue;
      sym[i] = this.result[rank];
      sym[j] = -1;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) consider(prev[i]);
      consider(i);
    }
    return sym.filter((s) => s >= 0);
  }
}
