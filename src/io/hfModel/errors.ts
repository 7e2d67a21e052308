// Typed refusals for Hugging Face model directories (docs/failure-scenarios.md#model-inputs: A5, A7–A9, A12): every error names
// the file, the config key or tensor that is wrong (the FIRST mismatch found, in a fixed order), what was
// expected, and a suggested action. Container errors (ST_*, MODEL_SHARD) stay SafetensorsErrors.
import { quote } from '../safetensors/errors';

export type ModelDirErrorCode =
  | 'MODEL_CONFIG' // config.json missing, not JSON, unknown model_type/architecture, bad or inconsistent key
  | 'MODEL_PREPROCESSOR' // preprocessor_config.json invalid or inconsistent with the model
  | 'MODEL_FORMAT' // only pickle weights (.bin/.pt/.pth/.ckpt): refused without parsing (A12)
  | 'MODEL_WEIGHTS_MISSING' // no model.safetensors and no model.safetensors.index.json
  | 'MODEL_FILE_CHANGED' // the picked file changed on disk (A11)
  | 'MODEL_READ' // a file could not be read for another reason
  | 'MODEL_TENSOR_MISSING' // an expected parameter is absent
  | 'MODEL_TENSOR_SHAPE' // an expected parameter has the wrong shape
  | 'MODEL_TENSOR_UNEXPECTED' // a tensor that is neither an expected parameter nor a tolerated buffer
  | 'MODEL_TIED_HEAD' // tie_word_embeddings is true but lm_head.weight differs from the embedding (wte / embed_tokens)
  | 'MODEL_DTYPE_UNSUPPORTED'; // a parameter is stored in a dtype other than F32/F16/BF16 (A5)

const ACTION: Record<ModelDirErrorCode, string> = {
  MODEL_CONFIG: 'fix config.json or pick a GPT-2, ViT, Llama, Mistral, Qwen2 or Qwen3 model folder saved by transformers',
  MODEL_PREPROCESSOR: 'fix preprocessor_config.json or remove it to use the ViTImageProcessor defaults',
  MODEL_FORMAT: 'only safetensors is supported; convert the checkpoint with save_pretrained(safe_serialization=True)',
  MODEL_WEIGHTS_MISSING: 'add model.safetensors (or the shards and model.safetensors.index.json) to the folder',
  MODEL_FILE_CHANGED: 'the file changed on disk since you selected it; please re-select it',
  MODEL_READ: 'check that the file is still accessible and pick the folder again',
  MODEL_TENSOR_MISSING: 'the weights do not belong to this config.json, or the file is incomplete',
  MODEL_TENSOR_SHAPE: 'the weights do not match config.json; use the config.json saved with these weights',
  MODEL_TENSOR_UNEXPECTED: 'the checkpoint holds parameters of another architecture or head; export the base model',
  MODEL_TIED_HEAD: 'set tie_word_embeddings to false in config.json, or re-save the model with transformers',
  MODEL_DTYPE_UNSUPPORTED: 'supported: F32/F16/BF16; convert the checkpoint first',
};

export interface ModelDirErrorOptions {
  /** config.json / preprocessor_config.json key the error is about. */
  key?: string;
  /** Tensor name AS STORED IN THE FILE (original key, prefix included). */
  tensor?: string;
  cause?: unknown;
}

export class ModelDirError extends Error {
  override name = 'ModelDirError';
  readonly key: string | undefined;
  readonly tensor: string | undefined;

  constructor(
    readonly code: ModelDirErrorCode,
    readonly file: string,
    /** What was wrong, without file, key/tensor or action (added here). */
    readonly detail: string,
    options: ModelDirErrorOptions = {},
  ) {
    let where = file;
    if (options.key !== undefined) where += `, key ${quote(options.key)}`;
    if (options.tensor !== undefined) where += `, tensor ${quote(options.tensor)}`;
    super(`${code} in ${where}: ${detail} (${ACTION[code]})`, { cause: options.cause });
    this.key = options.key;
    this.tensor = options.tensor;
  }
}

/** Maps a failed read to MODEL_FILE_CHANGED (Chrome's NotReadableError, A11) or MODEL_READ. */
export function readFailure(file: string, cause: unknown): ModelDirError {
  const changed = cause instanceof Error && cause.name === 'NotReadableError';
  return new ModelDirError(changed ? 'MODEL_FILE_CHANGED' : 'MODEL_READ', file, 'the file could not be read', { cause });
}
