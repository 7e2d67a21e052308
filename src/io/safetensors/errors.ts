// Typed safetensors errors: every rejection carries a stable code (docs/safetensors-checklist.md), the file, the
// tensor when one is involved, and a one-line message saying what was wrong, where, and what to do.

/** Codes from docs/safetensors-checklist.md, plus the few this module adds (marked). */
export type SafetensorsErrorCode =
  | 'ST_TOO_SMALL'
  | 'ST_HEADER_TOO_LARGE'
  | 'ST_HEADER_LENGTH'
  | 'ST_HEADER_UTF8'
  | 'ST_HEADER_JSON'
  | 'ST_HEADER_SCHEMA'
  | 'ST_DUPLICATE_KEY'
  | 'ST_DTYPE_INVALID'
  | 'ST_OFFSET_RANGE'
  | 'ST_HEADER_DEPTH'
  | 'ST_OFFSETS'
  | 'ST_OVERFLOW'
  | 'ST_SUBBYTE'
  | 'ST_SIZE_MISMATCH'
  | 'ST_COVERAGE'
  | 'ST_TENSOR_NOT_FOUND' // added: lookup of a name the file does not hold
  | 'ST_READ' // added: the byte source failed for a reason other than a changed file
  | 'MODEL_DTYPE_UNSUPPORTED'
  | 'MODEL_FILE_CHANGED'
  | 'MODEL_SHARD'
  | 'EXPORT_INVALID'
  | 'EXPORT_NONFINITE';

/** Suggested action per code, appended to every message (docs/failure-scenarios.md#clear-errors). */
const ACTION: Record<SafetensorsErrorCode, string> = {
  ST_TOO_SMALL: 'the file is empty or cut off; pick the complete .safetensors file',
  ST_HEADER_TOO_LARGE: 'a header this large cannot be loaded here',
  ST_HEADER_LENGTH: 'the file is truncated or not a safetensors file; re-download or re-export it',
  ST_HEADER_UTF8: 'the header is not UTF-8; the file is corrupt or not a safetensors file',
  ST_HEADER_JSON: 'the header is not valid JSON; the file is corrupt or was written by a broken tool',
  ST_HEADER_SCHEMA: 'the header does not follow the safetensors schema; re-export the file',
  ST_DUPLICATE_KEY: 'the header repeats a key; re-export the file with the reference library',
  ST_DTYPE_INVALID: 'the dtype is not a safetensors dtype; re-export the file',
  ST_OFFSET_RANGE: 'an offset is beyond 2^53−1 bytes; the file is corrupt',
  ST_HEADER_DEPTH: 'the header nests deeper than 127 levels; the file is corrupt or hostile',
  ST_OFFSETS: 'tensor regions must be contiguous, in order and non-overlapping; the file is corrupt',
  ST_OVERFLOW: 'a shape is too large to be real; the file is corrupt',
  ST_SUBBYTE: 'a sub-byte tensor does not fill whole bytes; the file is corrupt',
  ST_SIZE_MISMATCH: 'shape × dtype does not match the byte range; the file is corrupt',
  ST_COVERAGE: 'the data section does not end where the header says; the file is truncated or has extra bytes',
  ST_TENSOR_NOT_FOUND: 'check the tensor name against the file',
  ST_READ: 'the file could not be read; check that it is still accessible',
  MODEL_DTYPE_UNSUPPORTED: 'supported: F32/F16/BF16; convert the checkpoint first',
  MODEL_FILE_CHANGED: 'the file changed on disk since you selected it; please re-select it',
  MODEL_SHARD: 'the sharded checkpoint is inconsistent; re-download the complete set of shards',
  EXPORT_INVALID: 'the export was not written; this is a bug, please report it',
  EXPORT_NONFINITE: 'the export was not written; roll back to a finite checkpoint',
};

export interface SafetensorsErrorOptions {
  tensor?: string;
  cause?: unknown;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  readonly tensor: string | undefined;

  constructor(
    readonly code: SafetensorsErrorCode,
    readonly file: string,
    /** What was wrong and where, without the file name or the action (both added here). */
    readonly detail: string,
    options: SafetensorsErrorOptions = {},
  ) {
    const where = options.tensor === undefined ? file : `${file}, tensor ${quote(options.tensor)}`;
    super(`${code} in ${where}: ${detail} (${ACTION[code]})`, { cause: options.cause });
    this.tensor = options.tensor;
  }
}

/** Non-fatal findings (A07 unknown fields, sharded-index oddities): the file loads, the UI may show them. */
export interface SafetensorsWarning {
  code: 'ST_W_UNKNOWN_FIELD' | 'ST_W_UNINDEXED_TENSOR' | 'ST_W_TOTAL_SIZE';
  file: string;
  tensor?: string;
  message: string;
}

/** JSON-quotes a name so that "", spaces and control characters stay visible in messages. */
export function quote(name: string): string {
  const q = JSON.stringify(name);
  return q.length > 120 ? `${q.slice(0, 117)}…"` : q;
}
