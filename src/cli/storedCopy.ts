// The host's side of /__lorasc/out-copy (src/cli/host.ts): an unchanged tensor of a streamed export read from
// the input checkpoint and appended to the export's partial file, in Node, with the very conversion and checks
// the page would have run (src/io/export/storedTensor.ts). Moving these bytes through the page cost a
// renderer→bridge upload at about 2 MB/s on a loaded machine; here it is a disk read and a disk write.
import { open, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ExportError, storedTensorBytes } from '../io/export';
import { type ExportDtype, EXPORT_DTYPES } from '../io/export/precision';
import { isDtype, isSupportedDtype, SafetensorsError } from '../io/safetensors';
import { Refused } from './paths';

/** A refusal of the export itself (non-finite values, overflow): the page rethrows it as the same error class and code. */
export class StoredCopyError extends Refused {}

/**
 * Appends the tensor described by `q` (src, start, end, dtype, shape, to, key, file, offset) to `partial`,
 * whose size must be `offset`; `real(src)` resolves the source under the job's input roots (or refuses).
 * Returns the bytes appended.
 */
export async function appendStoredTensor(partial: string, q: URLSearchParams, real: (src: string) => Promise<string>): Promise<number> {
  const src = q.get('src') ?? '';
  if (!isAbsolute(src)) throw new Refused(400, `out-copy: not an absolute path: ${JSON.stringify(src)}`);
  const [start, end, offset] = ['start', 'end', 'offset'].map((k) => Number(q.get(k)));
  if (![start, end, offset].every((v) => Number.isSafeInteger(v) && v >= 0) || end < start) throw new Refused(400, 'out-copy needs &start=A&end=B&offset=N (A ≤ B)');
  const dtype = q.get('dtype') ?? '';
  if (!isDtype(dtype) || !isSupportedDtype(dtype)) throw new Refused(400, `out-copy: dtype ${JSON.stringify(dtype)} is not F32/F16/BF16`);
  const to = (q.get('to') ?? '') as ExportDtype;
  if (!EXPORT_DTYPES.includes(to)) throw new Refused(400, `out-copy: export dtype ${JSON.stringify(to)} is not one of ${EXPORT_DTYPES.join('/')}`);
  const shape = (q.get('shape') ?? '').split(',').filter((d) => d !== '').map(Number);
  const key = q.get('key') ?? '';
  const file = q.get('file') ?? '';
  const path = await real(src);
  const size = (await stat(path)).size;
  if (end > size) throw new Refused(416, `out-copy: bytes [${start}, ${end}) are not inside ${src}'s ${size} bytes`);
  const have = await stat(partial).then((x) => x.size, () => -1);
  if (have !== offset) throw new Refused(409, `out-copy: the partial file has ${have} bytes, not ${offset}`);
  // One tensor at a time, in its own aligned buffer (toFloat32 views F32 bytes in place).
  const raw = new Uint8Array(end - start);
  const fh = await open(path, 'r');
  try {
    for (let at = 0; at < raw.byteLength;) {
      const { bytesRead } = await fh.read(raw, at, raw.byteLength - at, start + at);
      if (bytesRead === 0) throw new Refused(409, `out-copy: ${src} ended at byte ${start + at}; the file changed on disk`);
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  let bytes: Uint8Array;
  try {
    bytes = storedTensorBytes(raw, { dtype, shape }, to, key, file);
  } catch (e) {
    if (e instanceof ExportError || e instanceof SafetensorsError) throw new StoredCopyError(422, JSON.stringify({ name: e.name, code: e.code, detail: e.detail }));
    throw e;
  }
  const out = await open(partial, 'a');
  try {
    await out.write(bytes);
  } finally {
    await out.close();
  }
  return bytes.byteLength;
}
