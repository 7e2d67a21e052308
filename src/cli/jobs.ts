// The CLI's jobs: what Node asks the engine page to do, and what comes back. Plain JSON (it crosses
// page.evaluate); bytes never travel here — the page reads inputs and writes outputs through the
// host's file bridge (host.ts). Errors are serialized as the studio's worker does it.
export { serializeError, type SerializedError } from '../worker/protocol';

/** A folder on the user's disk: its absolute path and the files in it (relative, '/'-separated). */
export interface DirRef {
  root: string;
  files: string[];
}

export interface FileRef {
  path: string; // absolute
}

export interface EvalLmJob {
  kind: 'eval-lm';
  model: DirRef;
  adapter?: DirRef;
  text?: FileRef;
  tokens?: number[];
  /** Output-relative file for the logits ([N, V] F32 safetensors, tensor "logits"). */
  logitsOut?: string;
}

/** `eval --data chat.jsonl`: the assistant-only loss of a chat dataset under the model's (or a given) template. */
export interface EvalChatJob {
  kind: 'eval-chat';
  model: DirRef;
  adapter?: DirRef;
  data: FileRef;
  /** --chat-template: a Jinja file used instead of the model's own template (a GPT-2 has none). */
  chatTemplate?: FileRef;
  /** --seq-len: tokens per conversation (default: the model's context); longer ones are truncated. */
  seqLen?: number;
  /** --batch: conversations per engine batch (default: up to 4, fewer when the batch's logits would be large). */
  batch?: number;
}

export interface EvalImagesJob {
  kind: 'eval-images';
  model: DirRef;
  adapter?: DirRef;
  images: DirRef;
  batch: number;
}

export interface GenerateJob {
  kind: 'generate';
  model: DirRef;
  adapter?: DirRef;
  prompt: string;
  /** --chat / --chat-file: the conversation to reply to, rendered with the chat template (then `prompt` is unused). */
  chat?: { role: 'system' | 'user' | 'assistant'; content: string }[];
  chatTemplate?: FileRef;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

export interface ClassifyJob {
  kind: 'classify';
  model: DirRef;
  adapter?: DirRef;
  images: FileRef[];
  topK: number;
}

export interface TrainJob {
  kind: 'train';
  model: DirRef;
  data: DirRef | FileRef;
  /** --format for a text file: parse as this instead of guessing from the extension (unknown: plain text). */
  textFormat?: 'txt' | 'jsonl' | 'csv';
  /** --chat-template for a chat .jsonl on a model without a template of its own. */
  chatTemplate?: FileRef;
  /** A partial TrainingConfig (src/train/config.ts); the page fills defaults and validates. */
  config: Record<string, unknown>;
  /** Also write the PEFT adapter folder where the method allows. */
  adapterOut: boolean;
  /** Continue from the newest complete checkpoint under the output folder's checkpoints/. */
  resume: boolean;
  /** --plan: print the memory plan of this run and exit (no data read, nothing trained or written). */
  planOnly?: boolean;
  /** --max-shard-bytes: shard the merged model above this many bytes (default 5 GB, as transformers). */
  maxShardBytes?: number;
  /** --export-dtype: round the F32 merge once to BF16/F16 (absent: F32). */
  exportDtype?: 'BF16' | 'F16';
  /** --frozen-weights: a BF16/F16 checkpoint's frozen weights packed ('stored', default) or widened to F32. */
  frozenWeights?: 'stored' | 'f32';
}

export interface ExportJob {
  kind: 'export';
  model: DirRef;
  adapter: DirRef;
  /** --max-shard-bytes (default 5 GB). */
  maxShardBytes?: number;
  /** --export-dtype (absent: F32). */
  exportDtype?: 'BF16' | 'F16';
}

export type CliJob = EvalLmJob | EvalChatJob | EvalImagesJob | GenerateJob | ClassifyJob | TrainJob | ExportJob;

export type CliResult = Record<string, unknown>;

/** Progress from the page: a training log entry, a status line, or a progress tick. */
export type CliEvent =
  | { type: 'status'; message: string }
  | { type: 'progress'; done: number; total: number; loss?: number; tokensPerSec?: number; lr?: number }
  | { type: 'log'; entry: Record<string, number> }
  | { type: 'warning'; message: string }
  /** Streamed model load: stored bytes of the tensors read so far, of the total. */
  | { type: 'load'; bytes: number; total: number; elapsedMs: number };
