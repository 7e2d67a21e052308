// Typed refusals for PEFT adapters (docs/failure-scenarios.md#clear-errors): a stable code, the file, the config
// key or tensor key involved, the rule that failed, and a suggested action.
import { quote } from '../safetensors/errors';

export type PeftErrorCode =
  | 'ADAPTER_MISSING' // adapter_config.json or adapter_model.safetensors absent
  | 'ADAPTER_FORMAT' // pickle weights (adapter_model.bin/.pt/.pth): refused without being opened
  | 'ADAPTER_JSON' // adapter_config.json is not valid UTF-8 JSON holding an object
  | 'ADAPTER_CONFIG' // a known key has the wrong type or value (peft_type, r, lora_alpha, …)
  | 'ADAPTER_UNSUPPORTED' // a feature that changes the maths and is not implemented here
  | 'ADAPTER_KEY' // a tensor key that is not PEFT's naming scheme
  | 'ADAPTER_MODULE' // the key names a module this model does not have
  | 'ADAPTER_UNTARGETED' // the module exists but target_modules does not match it
  | 'ADAPTER_SHAPE' // a tensor's shape disagrees with r and the module's in/out
  | 'ADAPTER_INCOMPLETE' // lora_A without lora_B (or the reverse), DoRA magnitude missing or unexpected
  | 'ADAPTER_NONFINITE' // NaN/Inf in adapter weights
  | 'ADAPTER_DTYPE' // a dtype other than F32/F16/BF16
  | 'EXPORT_INVALID'; // an export request that would write a file PEFT cannot load

const ACTION: Record<PeftErrorCode, string> = {
  ADAPTER_MISSING: 'pick the folder written by save_pretrained (adapter_config.json + adapter_model.safetensors)',
  ADAPTER_FORMAT: 'only safetensors is supported; re-save with save_pretrained(safe_serialization=True)',
  ADAPTER_JSON: 'the file is corrupt or not an adapter config; re-save the adapter with PEFT',
  ADAPTER_CONFIG: 'fix adapter_config.json or re-save the adapter with PEFT',
  ADAPTER_UNSUPPORTED: 'this adapter uses a PEFT feature the app does not implement; merge it in Python instead',
  ADAPTER_KEY: 'the file was not written by PEFT save_pretrained, or targets another model class',
  ADAPTER_MODULE: 'the adapter belongs to another model or size; pick the base model it was trained on',
  ADAPTER_UNTARGETED: 'target_modules in adapter_config.json does not match the tensors; the files do not belong together',
  ADAPTER_SHAPE: 'the adapter belongs to another model size or rank; check r and the base model',
  ADAPTER_INCOMPLETE: 'the adapter file is incomplete; re-save it with PEFT',
  ADAPTER_NONFINITE: 'the adapter weights hold NaN/Inf; use an earlier, finite checkpoint',
  ADAPTER_DTYPE: 'supported: F32/F16/BF16; convert the adapter first',
  EXPORT_INVALID: 'the export was not written; this is a bug, please report it',
};

export interface PeftErrorOptions {
  /** adapter_config.json key, or tensor key of adapter_model.safetensors. */
  key?: string;
  cause?: unknown;
}

export class PeftError extends Error {
  override name = 'PeftError';
  readonly key: string | undefined;

  constructor(
    readonly code: PeftErrorCode,
    readonly file: string,
    /** The rule that failed, without file, key or action (added here). */
    readonly detail: string,
    options: PeftErrorOptions = {},
  ) {
    const where = options.key === undefined ? file : `${file}, key ${quote(options.key)}`;
    super(`${code} in ${where}: ${detail} (${ACTION[code]})`, { cause: options.cause });
    this.key = options.key;
  }
}
