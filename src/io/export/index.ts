// Public API of merged-model export and the parity check (docs/formats.md#exports).
export { ExportError, type ExportErrorCode } from './errors';
export { DEFAULT_MAX_SHARD_BYTES, MERGED_WEIGHTS_FILE, buildMergedModelFiles, doraMerge, mergeDelta, splitShards } from './merged';
export type { MergedModelOptions, NewHead } from './merged';
export { PARITY_ATOL, parityFigure, parityPasses, type ParityFigure } from './parity';
export { type ExportSink, type StreamedMergedOptions, writeMergedModelStreamed } from './streamed';
export { EXPORT_DTYPES, type ExportDtype, f32ToBf16Bits, f32ToF16Bits, parseExportDtype, roundTensor, type RoundingFigure, RoundingTally, TORCH_DTYPE } from './precision';
export { adapterCheckModules, assertMergeCheck, checkMergedRows, MERGE_CHECK_ROWS, MERGE_CHECK_ULPS, MERGE_CHECK_SEED, mergeCheckUlps, type MergeCheck, type MergeCheckModule, sampleRows } from './rowCheck';
export { type StoredSlice, storedTensorBytes } from './storedTensor';
