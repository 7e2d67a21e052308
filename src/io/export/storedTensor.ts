// An unchanged tensor of a streamed export written from its stored bytes (issue 13, export speed): the CLI's
// host copies it file→file, so the base's unadapted weights (a 151,936-row embedding included) never cross
// the page, whose uploads to the bridge are slow (about 2 MB/s on a loaded machine). The bytes are exactly
// the ones the page path writes: the stored values widened to F32 (toFloat32, as the loader reads them), the
// writer's checks (checkF32Tensor: shape, non-finite values), then F32 bytes or the export dtype's rounding.
import { checkF32Tensor, type Dtype, tensorBytes, toFloat32 } from '../safetensors';
import { type ExportDtype, exportTensorBytes } from './precision';

/** Where a tensor's stored bytes lie: an absolute file path and the byte range [start, end) in it. */
export interface StoredSlice {
  path: string;
  start: number;
  end: number;
  dtype: Dtype;
  shape: readonly number[];
}

/** The bytes a streamed export writes for a tensor stored as `raw` (in `slice.dtype`); `file` names the output file. */
export function storedTensorBytes(raw: Uint8Array, slice: Pick<StoredSlice, 'dtype' | 'shape'>, to: ExportDtype, key: string, file: string): Uint8Array {
  const data = toFloat32(raw, slice.dtype, file, key);
  const shape = [...slice.shape];
  checkF32Tensor(key, { shape, data }, file);
  return to === 'F32' ? tensorBytes({ shape, data }) : exportTensorBytes(to, data, file, key);
}
