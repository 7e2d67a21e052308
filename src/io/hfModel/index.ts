// Public API of the Hugging Face model-folder loader (GPT-2, ViT, Llama / Mistral / Qwen2 / Qwen3). The canonical tensor naming scheme
// is documented in layout.ts; the layout differences that import absorbs are listed in match.ts.
export { ModelDirError, type ModelDirErrorCode } from './errors';
export { loadModelDir, WEIGHTS_FILE } from './load';
export type { LoadedGpt2, LoadedLlama, LoadedModel, LoadedVit, LoadOptions, MemoryEstimate } from './load';
export {
  GPT2_PREFIX, LLAMA_MODULES, LLAMA_PREFIX, VIT_PREFIX, gpt2Parameters, llamaParameters, numel, vitClassifier, vitParameters, vitPooler,
} from './layout';
export type { LlamaModule } from './layout';
export { LLAMA_ARCHITECTURES, LLAMA_FAMILIES, parseLlamaConfig, type LlamaConfig, type LlamaFamily } from './config';
export type { TensorSpec } from './layout';
export { matchGpt2, matchLlama, matchVit } from './match';
export type { Gpt2Match, LlamaMatch, Matched, MatchInput, StoredTensor, VitHeadInfo, VitMatch } from './match';
export { sourceFromFiles, sourceFromMap, type ModelDirSource } from './source';
