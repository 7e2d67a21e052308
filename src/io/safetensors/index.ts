// Public API of the safetensors module: strict reader, canonical writer, sharded loading.
export { SafetensorsError, type SafetensorsErrorCode, type SafetensorsWarning } from './errors';
export { DTYPE_BITS, isDtype, isSupportedDtype, toFloat32, f16BitsToF32Bits, bf16BitsToF32Bits } from './dtype';
export type { Dtype, SupportedDtype } from './dtype';
export { DEFAULT_HEADER_CAP, MAX_HEADER_SIZE, parseHeader, parseHeaderOfFile, readHeaderLength } from './header';
export type { ReadOptions, SafetensorsHeader } from './header';
export type { TensorInfo } from './layout';
export { readSafetensors, readSafetensorsBlob, readSafetensorsHeader } from './reader';
export type { SafetensorsFile, SafetensorsTensor } from './reader';
export { checkF32Tensor, compareUtf8, layoutSafetensors, prepareSafetensors, tensorBytes, writeSafetensors } from './writer';
export type { F32Tensor, LayoutOptions, PreparedSafetensors, SafetensorsLayout, TensorSource, WriteOptions } from './writer';
export { SHARD_INDEX_NAME, loadShardedSafetensors, loadShardedSafetensorsRanged, parseShardIndex, shardFileName } from './sharded';
export type { OpenRange, ReadFile, ShardIndex, ShardedReadOptions, ShardedSafetensors } from './sharded';
export { blobRangeReader, bytesRangeReader, countingReader, isStreamed, newReadStats, readHeaderRanged, readSafetensorsRanged, tensorFloat32 } from './ranged';
export type { RangeReader, ReadStats, StreamedSafetensorsFile, StreamedTensor } from './ranged';
