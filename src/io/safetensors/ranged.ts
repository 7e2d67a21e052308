// Streamed reading (issue 13 item 1): a safetensors file read through byte ranges, never as one buffer.
// The length prefix and the header are read first (8 bytes, then N), every parser check runs against
// the file's size (docs/safetensors-checklist.md: the same header.ts/layout.ts code as the in-memory
// reader), and each tensor's bytes are fetched only when that tensor is asked for, in one read of
// exactly its byte range. The same interface serves `File.slice` in the studio and ranged GETs through
// the CLI bridge (src/cli/page/bridge.ts), so files above 2 GB — which no single ArrayBuffer read
// accepts in Chrome — load tensor by tensor.
import { isSupportedDtype, toFloat32, type Dtype } from './dtype';
import { quote, SafetensorsError } from './errors';
import { parseHeader, readHeaderLength, type ReadOptions, type SafetensorsHeader } from './header';
import type { TensorInfo } from './layout';
import type { SafetensorsFile, SafetensorsTensor } from './reader';

/** A file that can tell its size and read a byte range [start, end). */
export interface RangeReader {
  readonly size: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

/** What a reader has read so far: the evidence that no whole-file buffer was made. */
export interface ReadStats {
  bytesRead: number;
  reads: number;
  /** The largest single read, in bytes. */
  maxRead: number;
}

/** Wraps a reader to count its reads (bytes, count, largest) into `stats`. */
export function countingReader(inner: RangeReader, stats: ReadStats): RangeReader {
  return {
    size: inner.size,
    async read(start, end) {
      const bytes = await inner.read(start, end);
      stats.bytesRead += bytes.byteLength;
      stats.reads++;
      stats.maxRead = Math.max(stats.maxRead, bytes.byteLength);
      return bytes;
    },
  };
}

export const newReadStats = (): ReadStats => ({ bytesRead: 0, reads: 0, maxRead: 0 });

/** `File.slice` ranges (the studio); NotReadableError (file changed on disk) becomes MODEL_FILE_CHANGED (A11). */
export function blobRangeReader(blob: Blob, file = '<blob>'): RangeReader {
  return {
    size: blob.size,
    async read(start, end) {
      try {
        return new Uint8Array(await blob.slice(start, end).arrayBuffer());
      } catch (cause) {
        const changed = cause instanceof Error && cause.name === 'NotReadableError';
        throw new SafetensorsError(changed ? 'MODEL_FILE_CHANGED' : 'ST_READ', file, `reading bytes [${start}, ${end}) failed`, { cause });
      }
    },
  };
}

/** An in-memory file as a reader (tests, demo bundles). */
export function bytesRangeReader(bytes: Uint8Array): RangeReader {
  return { size: bytes.byteLength, read: async (start, end) => bytes.subarray(start, end) };
}

/** A tensor whose bytes stay in the file until asked for. */
export interface StreamedTensor extends SafetensorsTensor {
  /** The file it is read from (named in errors). */
  readonly file: string;
  /** Bytes of the tensor in the file. */
  readonly byteLength: number;
  /** Whether `raw` / `data` can be read synchronously (after `fetch()`). */
  readonly resident: boolean;
  /** Reads the tensor's bytes (one ranged read); not kept. */
  bytes(): Promise<Uint8Array>;
  /** Reads and converts to Float32 without keeping either (streamed export). */
  float32(): Promise<Float32Array>;
  /** Reads, converts and keeps the Float32 values, so that `data` (and `raw`) work synchronously. */
  fetch(): Promise<void>;
  /** Drops what `fetch()` kept. */
  release(): void;
  /** Called after each read of the tensor's bytes (load progress, src/io/hfModel/load.ts). */
  onRead: ((t: StreamedTensor) => void) | undefined;
}

class RangedTensor implements StreamedTensor {
  private raw_: Uint8Array | undefined;
  private data_: Float32Array | undefined;
  onRead: ((t: StreamedTensor) => void) | undefined = undefined;

  constructor(
    private readonly reader: RangeReader,
    private readonly dataStart: number,
    private readonly info: TensorInfo,
    readonly file: string,
  ) {}

  get name(): string { return this.info.name; }
  get dtype(): Dtype { return this.info.dtype; }
  get shape(): readonly number[] { return this.info.shape; }
  get supported(): boolean { return isSupportedDtype(this.dtype); }
  get byteLength(): number { return this.info.end - this.info.begin; }
  get resident(): boolean { return this.data_ !== undefined; }

  get raw(): Uint8Array {
    return this.raw_ ?? this.notResident();
  }

  get data(): Float32Array {
    return this.data_ ?? this.notResident();
  }

  async bytes(): Promise<Uint8Array> {
    const raw = await this.reader.read(this.dataStart + this.info.begin, this.dataStart + this.info.end);
    this.onRead?.(this);
    return raw;
  }

  async float32(): Promise<Float32Array> {
    const raw = await this.bytes();
    return toFloat32(raw, this.dtype, this.file, this.name);
  }

  async fetch(): Promise<void> {
    if (this.data_) return;
    const raw = await this.bytes();
    this.data_ = toFloat32(raw, this.dtype, this.file, this.name);
    // F32 values are the file's bytes (aliased or copied aligned): `raw` is a view on them. A converted
    // F16/BF16 tensor keeps only its Float32 values (raw would be a second copy nobody reads).
    this.raw_ = this.dtype === 'F32' ? new Uint8Array(this.data_.buffer, this.data_.byteOffset, this.data_.byteLength) : undefined;
  }

  release(): void {
    this.raw_ = undefined;
    this.data_ = undefined;
  }

  private notResident(): never {
    throw new SafetensorsError('ST_READ', this.file, 'tensor is streamed from disk and was not fetched (a bug: call fetch() first)', { tensor: this.name });
  }
}

export interface StreamedSafetensorsFile extends SafetensorsFile {
  readonly tensors: Map<string, StreamedTensor>;
  get(name: string): StreamedTensor;
}

/** Header from a prefix of the file; tensors stay on disk (see the file comment). */
export async function readSafetensorsRanged(reader: RangeReader, file: string, options: ReadOptions = {}): Promise<StreamedSafetensorsFile> {
  const header = await readHeaderRanged(reader, file, options);
  const tensors = new Map<string, StreamedTensor>();
  for (const t of header.tensors) tensors.set(t.name, new RangedTensor(reader, header.dataStart, t, file));
  return {
    file,
    header,
    metadata: header.metadata,
    warnings: header.warnings,
    tensors,
    get(name: string): StreamedTensor {
      const t = tensors.get(name);
      if (!t) throw new SafetensorsError('ST_TENSOR_NOT_FOUND', file, `no tensor named ${quote(name)}`, { tensor: name });
      return t;
    },
  };
}

/** Steps 1–8 from two reads: 8 bytes, then the N header bytes (the declared N is checked before it is read). */
export async function readHeaderRanged(reader: RangeReader, file: string, options: ReadOptions = {}): Promise<SafetensorsHeader> {
  const prefix = await reader.read(0, Math.min(8, reader.size));
  const n = readHeaderLength(prefix, reader.size, file, options);
  return parseHeader(await reader.read(8, 8 + n), reader.size, file);
}

/** Whether a tensor is streamed (has `fetch`), as opposed to a view into a file in memory. */
export function isStreamed(t: SafetensorsTensor): t is StreamedTensor {
  return typeof (t as Partial<StreamedTensor>).fetch === 'function';
}

/** A tensor's Float32 values, read from disk when streamed (not kept), else its in-memory `data`. */
export async function tensorFloat32(t: SafetensorsTensor): Promise<Float32Array> {
  return isStreamed(t) && !t.resident ? t.float32() : t.data;
}
