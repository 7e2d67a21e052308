// Public API of the Hugging Face model-folder loader (GPT-2, ViT). The canonical tensor naming scheme
// is documented in layout.ts; the layout differences that import absorbs are listed in match.ts.
export { ModelDirError, type ModelDirErrorCode } from './errors';
export { loadModelDir, WEIGHTS_FILE } from './load';
export type { LoadedGpt2, LoadedModel, LoadedVit, LoadOptions, MemoryEstimate } from './load';
export { GPT2_PREFIX, VIT_PREFIX, gpt2Parameters, numel, vitClassifier, vitParameters, vitPooler } from './layout';
export type { TensorSpec } from './layout';
export { matchGpt2, matchVit } from './match';
export type { Gpt2Match, Matched, MatchInput, StoredTensor, VitHeadInfo, VitMatch } from './match';
export { sourceFromFiles, sourceFromMap, type ModelDirSource } from './source';
