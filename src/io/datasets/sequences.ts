// Tokenised training sequences of length T for causal language modelling. labels[t] is the id the model must
// predict after ids[0..t], i.e. the next token; IGNORE_INDEX (-100, as PyTorch's cross_entropy) marks
// positions that add nothing to the loss: padding, and for instruction examples every position whose
// target is a prompt token (Stanford Alpaca train.py masks the source the same way).
import { DatasetError } from './errors';
import type { TextDataset } from './text';

export const IGNORE_INDEX = -100;

/** The little the sequence builder needs from a tokenizer. */
export interface LmTokenizer {
  encode(text: string): number[];
  /** End-of-text id, appended to each example and used as padding; null: nothing appended, pad with 0. */
  eosId: number | null;
}

/** Adapts the project's ByteLevelBpeTokenizer (src/io/tokenizer), whose EOS field is `eosTokenId`. */
export function lmTokenizer(t: { encode(text: string): number[]; readonly eosTokenId: number | null }): LmTokenizer {
  return { encode: (text) => t.encode(text), eosId: t.eosTokenId };
}

export interface LmSequences {
  ids: Uint32Array[]; // each (T)
  labels: Int32Array[]; // each (T); IGNORE_INDEX where nothing is trained
  /** Tokens produced by tokenising the dataset (with the EOS of each example), before truncation. */
  tokenCount: number;
  /** Labels that are not IGNORE_INDEX: the targets one epoch trains on. */
  trainedTokens: number;
  /** Examples cut to T + 1 tokens. */
  truncated: number;
  /** Examples left with no trained label (prompt alone fills the context) and so not used. */
  dropped: number;
}

export function buildLmSequences(ds: TextDataset, tok: LmTokenizer, T: number): LmSequences {
  if (!Number.isInteger(T) || T < 1) throw new DatasetError('DATA_ARGS', ds.file, `sequence length T=${T} must be an integer ≥ 1`);
  if (ds.chats !== undefined) {
    throw new DatasetError('DATA_ARGS', ds.file, 'a chat dataset is rendered with the model\'s chat template: build it with buildChatSequences (src/io/chat)');
  }
  return ds.format === 'txt' ? streamWindows(ds, tok, T) : exampleSequences(ds, tok, T);
}

/** Plain text: one token stream cut into windows of T + 1 tokens with stride T (each token predicted once). */
function streamWindows(ds: TextDataset, tok: LmTokenizer, T: number): LmSequences {
  const stream: number[] = [];
  for (const ex of ds.examples) {
    for (const id of tok.encode(ex.prompt + ex.completion)) stream.push(id);
  }
  const n = stream.length;
  if (n < 2) throw new DatasetError('DATA_EMPTY', ds.file, `0 usable examples: the text is ${n} token(s), at least 2 are needed`);
  const pad = tok.eosId ?? 0;
  const out: LmSequences = { ids: [], labels: [], tokenCount: n, trainedTokens: n - 1, truncated: 0, dropped: 0 };
  for (let base = 0; base < n - 1; base += T) {
    const ids = new Uint32Array(T);
    const labels = new Int32Array(T);
    for (let j = 0; j < T; j++) {
      const p = base + j;
      ids[j] = p < n ? stream[p] : pad;
      labels[j] = p + 1 < n ? stream[p + 1] : IGNORE_INDEX;
    }
    out.ids.push(ids);
    out.labels.push(labels);
  }
  return out;
}

/** Examples: prompt + completion + EOS, truncated to T + 1; targets inside the prompt are masked. */
function exampleSequences(ds: TextDataset, tok: LmTokenizer, T: number): LmSequences {
  const pad = tok.eosId ?? 0;
  const out: LmSequences = { ids: [], labels: [], tokenCount: 0, trainedTokens: 0, truncated: 0, dropped: 0 };
  for (const ex of ds.examples) {
    const prompt = ex.prompt === '' ? [] : tok.encode(ex.prompt);
    const seq = prompt.concat(tok.encode(ex.completion));
    if (tok.eosId !== null) seq.push(tok.eosId);
    out.tokenCount += seq.length;
    if (seq.length > T + 1) {
      seq.length = T + 1;
      out.truncated++;
    }
    // position j predicts seq[j + 1]; trained iff that target is past the prompt
    const firstTrained = Math.max(prompt.length - 1, 0);
    const lastTrained = seq.length - 2;
    if (lastTrained < firstTrained) {
      out.dropped++;
      continue;
    }
    const ids = new Uint32Array(T).fill(pad);
    const labels = new Int32Array(T).fill(IGNORE_INDEX);
    for (let j = 0; j < Math.min(T, seq.length); j++) ids[j] = seq[j];
    for (let j = firstTrained; j <= lastTrained; j++) labels[j] = seq[j + 1];
    out.trainedTokens += lastTrained - firstTrained + 1;
    out.ids.push(ids);
    out.labels.push(labels);
  }
  if (out.ids.length === 0) {
    throw new DatasetError('DATA_EMPTY', ds.file, `0 usable examples (${out.dropped} truncated or filtered: the prompt fills the context of T=${T})`);
  }
  return out;
}
