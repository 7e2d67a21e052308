// Typed refusals of the merged-model exporter: a stable code (docs/failure-scenarios.md#d5, #g1), the file, the
// tensor when one is involved, and what to do.
import { quote } from '../safetensors/errors';

export type ExportErrorCode = 'EXPORT_INVALID' | 'EXPORT_NONFINITE';

const ACTION: Record<ExportErrorCode, string> = {
  EXPORT_INVALID: 'the export was not written; this is a bug, please report it',
  EXPORT_NONFINITE: 'the export was not written; roll back to a finite checkpoint',
};

export class ExportError extends Error {
  override name = 'ExportError';
  readonly tensor: string | undefined;

  constructor(
    readonly code: ExportErrorCode,
    readonly file: string,
    readonly detail: string,
    options: { tensor?: string; cause?: unknown } = {},
  ) {
    const where = options.tensor === undefined ? file : `${file}, tensor ${quote(options.tensor)}`;
    super(`${code} in ${where}: ${detail} (${ACTION[code]})`, { cause: options.cause });
    this.tensor = options.tensor;
  }
}
