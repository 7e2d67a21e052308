// Public API of the tokenizer module.
//
// `loadTokenizer({ tokenizerJson, tokenizerConfig? })` loads any supported model folder's tokenizer:
// GPT-2-style byte-level BPE on the hand-written path, byte-level BPE with Split regex pre-tokenizers
// (Llama-3, Qwen2/3, SmolLM2) and SentencePiece-style BPE with byte fallback (Llama-2, TinyLlama, Mistral)
// through Tokenizers.js (docs/tokenizers.md says why and where). Every tokenizer offers:
//   encode(text)                              ids, nothing added (HF add_special_tokens=False); added and
//                                             special tokens written in the text are still matched whole
//   encode(text, { addSpecialTokens: true })  with BOS/EOS as transformers adds them (special.ts)
//   decode(ids, { skipSpecialTokens })        HF skip_special_tokens
//   bosTokenId / eosTokenId                   from tokenizer_config.json bos_token / eos_token, else by name
//   tokenToId('<|im_end|>')                   the id of a special token given by its string
// The GPT-2 loaders (fromTokenizerJson, fromVocabMerges) and the trainer are unchanged.
export { TokenizerError, type TokenizerErrorCode } from './errors';
export { ByteLevelBpeTokenizer, type DecodeOptions, type EncodeOptions, type TokenizerSpec } from './tokenizer';
export { fromTokenizerJson, fromTokenizerObject, fromVocabMerges, type SpecialTokenNames, type VocabMergesOptions } from './load';
export { loadTokenizer, type TextTokenizer, type TokenizerFiles } from './auto';
export { loadFolderTokenizer, type TokenizerFolder } from './folder';
export { LibraryTokenizer } from './library';
export type { SpecialTemplate, TokenizerConfig } from './special';
export { MAX_TOKENIZER_FILE_CHARS, MAX_TOKEN_ID } from './validate';
export { MAX_TRAIN_VOCAB, trainByteLevelBpe, type TrainOptions, type TrainedTokenizerJson } from './train';
export { BYTE_ALPHABET, BYTE_TO_CHAR, CHAR_TO_BYTE, toByteLevel } from './bytes';
export { GPT2_SPLIT_PATTERN, splitWords } from './pretokenize';
export type { AddedToken } from './added';
