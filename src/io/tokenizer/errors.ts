// Typed tokenizer errors (docs/failure-scenarios.md#a10, #clear-errors): a stable code, the file, what was wrong and
// where, and a suggested action. Loaders never let a TypeError or RangeError from bad input escape.

export type TokenizerErrorCode =
  | 'MODEL_TOKENIZER_TOO_LARGE' // the file is larger than any real tokenizer file
  | 'MODEL_TOKENIZER_JSON' // not parseable JSON
  | 'MODEL_TOKENIZER_SCHEMA' // a required field is missing or has the wrong type
  | 'MODEL_TOKENIZER_UNSUPPORTED' // valid, but not a GPT-2 style byte-level BPE tokenizer
  | 'MODEL_TOKENIZER_VOCAB' // bad ids: not integers, out of range, duplicated, contradictory
  | 'MODEL_TOKENIZER_MERGES' // malformed merge, or a merge over tokens the vocabulary lacks
  | 'TRAIN_TOKENIZER'; // invalid arguments to the BPE trainer

const ACTION: Record<TokenizerErrorCode, string> = {
  MODEL_TOKENIZER_TOO_LARGE: 'pick the tokenizer file that belongs to the model',
  MODEL_TOKENIZER_JSON: 'the file is corrupt or truncated; re-download it',
  MODEL_TOKENIZER_SCHEMA: 'the file does not follow the Hugging Face tokenizer format; re-export it',
  MODEL_TOKENIZER_UNSUPPORTED: 'only GPT-2 style byte-level BPE tokenizers are supported',
  MODEL_TOKENIZER_VOCAB: 'the vocabulary is inconsistent; re-download or re-export the tokenizer',
  MODEL_TOKENIZER_MERGES: 'the merges do not match the vocabulary; use the files of one tokenizer',
  TRAIN_TOKENIZER: 'fix the trainer arguments',
};

export class TokenizerError extends Error {
  override name = 'TokenizerError';

  constructor(
    readonly code: TokenizerErrorCode,
    /** The file at fault (`tokenizer.json`, `merges.txt`, …) or `trainer` for trainer arguments. */
    readonly file: string,
    /** What was wrong and where, without the file name or the action (both added here). */
    readonly detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${code} in ${file}: ${detail} (${ACTION[code]})`, { cause: options.cause });
  }
}

/** JSON-quotes a token so that spaces, control characters and "" stay visible in messages. */
export function quoteToken(token: string): string {
  const q = JSON.stringify(token);
  return q.length > 60 ? `${q.slice(0, 57)}…"` : q;
}
