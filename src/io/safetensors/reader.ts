// The strict reader. The whole header is validated before any tensor is handed out (docs/failure-scenarios.md#a1);
// tensor bytes are exposed as views, and the Float32 conversion is LAZY: `tensor.data` converts on first
// access and caches the result, so a file can be inspected (names, shapes, dtypes) without converting,
// and an unsupported dtype fails only for the tensor that is actually used (A5).
import { isSupportedDtype, toFloat32, type Dtype } from './dtype';
import { quote, SafetensorsError, type SafetensorsWarning } from './errors';
import { parseHeader, parseHeaderOfFile, readHeaderLength, type ReadOptions, type SafetensorsHeader } from './header';
import type { TensorInfo } from './layout';

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** The tensor's bytes inside the file buffer (little-endian, row-major); no copy. */
  readonly raw: Uint8Array;
  /**
   * Float32 values, converted on first access and cached. F32 at a 4-byte-aligned offset aliases `raw`
   * (no copy); unaligned F32, F16 and BF16 are converted into a fresh buffer. Throws SafetensorsError
   * MODEL_DTYPE_UNSUPPORTED for any dtype other than F32/F16/BF16.
   */
  readonly data: Float32Array;
  readonly supported: boolean;
}

export interface SafetensorsFile {
  readonly file: string;
  readonly header: SafetensorsHeader;
  /** `__metadata__` (null when absent); same object as header.metadata. */
  readonly metadata: Map<string, string> | null;
  readonly warnings: SafetensorsWarning[];
  /** In data-offset order. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The named tensor, or SafetensorsError ST_TENSOR_NOT_FOUND. */
  get(name: string): SafetensorsTensor;
}

// One small object per tensor; the `raw` view is cut on access (a typed array per tensor up front costs
// a measurable share of the A11 budget for a million-tensor header).
class LazyTensor implements SafetensorsTensor {
  private cached: Float32Array | undefined;

  constructor(
    private readonly fileData: Uint8Array,
    private readonly info: TensorInfo,
    readonly file: string,
  ) {}

  get name(): string {
    return this.info.name;
  }

  get dtype(): Dtype {
    return this.info.dtype;
  }

  get shape(): readonly number[] {
    return this.info.shape;
  }

  get raw(): Uint8Array {
    return this.fileData.subarray(this.info.begin, this.info.end);
  }

  get supported(): boolean {
    return isSupportedDtype(this.dtype);
  }

  get data(): Float32Array {
    this.cached ??= toFloat32(this.raw, this.dtype, this.file, this.name);
    return this.cached;
  }
}

/** Reads a whole file already in memory; tensors' `raw` views alias `bytes`. */
export function readSafetensors(bytes: ArrayBuffer | Uint8Array, file = '<memory>', options: ReadOptions = {}): SafetensorsFile {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const header = parseHeaderOfFile(u8, file, options);
  return assemble(header, u8.subarray(header.dataStart));
}

/** Header only (steps 1–8) from a Blob/File: reads 8 bytes, then N bytes; never the data (preflight). */
export async function readSafetensorsHeader(blob: Blob, file = blobName(blob), options: ReadOptions = {}): Promise<SafetensorsHeader> {
  const prefix = await readRange(blob, 0, Math.min(8, blob.size), file);
  const n = readHeaderLength(prefix, blob.size, file, options);
  const headerBytes = await readRange(blob, 8, 8 + n, file);
  return parseHeader(headerBytes, blob.size, file);
}

/** Header first (nothing is read past it if it is invalid), then the data buffer in one read. */
export async function readSafetensorsBlob(blob: Blob, file = blobName(blob), options: ReadOptions = {}): Promise<SafetensorsFile> {
  const header = await readSafetensorsHeader(blob, file, options);
  const data = await readRange(blob, header.dataStart, blob.size, file);
  return assemble(header, data);
}

function assemble(header: SafetensorsHeader, data: Uint8Array): SafetensorsFile {
  const { file } = header;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of header.tensors) {
    tensors.set(t.name, new LazyTensor(data, t, file));
  }
  return {
    file,
    header,
    metadata: header.metadata,
    warnings: header.warnings,
    tensors,
    get(name: string): SafetensorsTensor {
      const t = tensors.get(name);
      if (!t) throw new SafetensorsError('ST_TENSOR_NOT_FOUND', file, `no tensor named ${quote(name)}`, { tensor: name });
      return t;
    },
  };
}

async function readRange(blob: Blob, start: number, end: number, file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await blob.slice(start, end).arrayBuffer());
  } catch (cause) {
    // Chrome raises NotReadableError when the picked file changed on disk (docs/failure-scenarios.md#a11).
    const changed = cause instanceof Error && cause.name === 'NotReadableError';
    throw new SafetensorsError(changed ? 'MODEL_FILE_CHANGED' : 'ST_READ', file, `reading bytes [${start}, ${end}) failed`, {
      cause,
    });
  }
}

function blobName(blob: Blob): string {
  const name = (blob as Partial<File>).name;
  return typeof name === 'string' && name ? name : '<blob>';
}
