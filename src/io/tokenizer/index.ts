// Public API of the tokenizer module: GPT-2 byte-level BPE (load, encode, decode) and its trainer.
export { TokenizerError, type TokenizerErrorCode } from './errors';
export { ByteLevelBpeTokenizer, type DecodeOptions, type TokenizerSpec } from './tokenizer';
export { fromTokenizerJson, fromTokenizerObject, fromVocabMerges, type SpecialTokenNames, type VocabMergesOptions } from './load';
export { MAX_TOKENIZER_FILE_CHARS, MAX_TOKEN_ID } from './validate';
export { MAX_TRAIN_VOCAB, trainByteLevelBpe, type TrainOptions, type TrainedTokenizerJson } from './train';
export { BYTE_ALPHABET, BYTE_TO_CHAR, CHAR_TO_BYTE, toByteLevel } from './bytes';
export { GPT2_SPLIT_PATTERN, splitWords } from './pretokenize';
export type { AddedToken } from './added';
