// Steps 1–5 of the reference parse order (docs/safetensors-checklist.md#parse-order): length prefix, UTF-8, and a
// schema-directed strict JSON read of the header. Steps 6–8 (offsets, sizes, coverage) are in layout.ts.
import { canonicalDtype, isDtype, type Dtype } from './dtype';
import { quote, SafetensorsError, type SafetensorsWarning } from './errors';
import { JsonCursor, valueKind } from './json';
import { type RawEntry, type TensorInfo, validateLayout } from './layout';

/** The reference's MAX_HEADER_SIZE, in decimal bytes: no file above it is a valid safetensors file. */
export const MAX_HEADER_SIZE = 100_000_000;

/**
 * This app's default, stricter cap (docs/safetensors-checklist.md#a11): a strict parse of a 100 MB header
 * (~1.1M tensors) takes 6–8 s in V8, where even plain JSON.parse needs ~4 s: far over the 2 s budget. 10 MB
 * (~120k tensors) parses in under 1 s. GPT-2/ViT headers are below 100 KB. Raise it per call with
 * `maxHeaderBytes` (up to MAX_HEADER_SIZE).
 */
export const DEFAULT_HEADER_CAP = 10_000_000;

export interface ReadOptions {
  /** Largest accepted header N in bytes; default DEFAULT_HEADER_CAP, never above MAX_HEADER_SIZE. */
  maxHeaderBytes?: number;
}

export interface SafetensorsHeader {
  file: string;
  /** N: header bytes after the 8-byte prefix, padding included. */
  headerLength: number;
  /** 8 + N: file offset of the data buffer, to which every data_offsets value is relative. */
  dataStart: number;
  fileSize: number;
  /** `__metadata__`, or null when absent or JSON null (A08). Keys live in a Map: `__proto__` is legal. */
  metadata: Map<string, string> | null;
  /** Ordered by data offset. */
  tensors: TensorInfo[];
  warnings: SafetensorsWarning[];
}

/**
 * Steps 1–3 from the first 8 bytes alone (docs/failure-scenarios.md#a2): the declared length is compared as a
 * BigInt against the cap and the file size before anything of that size is read or allocated.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, file: string, options: ReadOptions = {}): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsError('ST_TOO_SMALL', file, `file is ${fileSize} bytes; the length prefix alone needs 8`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  const cap = Math.min(options.maxHeaderBytes ?? DEFAULT_HEADER_CAP, MAX_HEADER_SIZE);
  if (n > BigInt(cap)) {
    const mb = Number(n) / 1e6;
    const size = mb < 1e6 ? `${mb.toFixed(1)} MB` : `${n} bytes`;
    const limit = n > BigInt(MAX_HEADER_SIZE) ? 'the limit is 100 MB' : `this app's limit is ${cap / 1e6} MB (the format allows 100 MB)`;
    throw new SafetensorsError('ST_HEADER_TOO_LARGE', file, `header is ${size}; ${limit}`);
  }
  if (8n + n > BigInt(fileSize)) {
    throw new SafetensorsError(
      'ST_HEADER_LENGTH',
      file,
      `header length ${n} runs past the end of the file (${fileSize - 8} bytes follow the length prefix)`,
    );
  }
  return Number(n);
}

/** Steps 4–8 on the N header bytes; `fileSize` is needed for the coverage check (step 8). */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    // fatal: reject rather than replace; ignoreBOM: keep a BOM so that it fails as JSON (R08).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch (cause) {
    throw new SafetensorsError('ST_HEADER_UTF8', file, `header bytes [8, ${8 + headerBytes.byteLength}) are not valid UTF-8`, {
      cause,
    });
  }
  const warnings: SafetensorsWarning[] = [];
  const { metadata, entries } = readTopLevel(new JsonCursor(text, file), warnings);
  const tensors = validateLayout(entries, headerBytes.byteLength, fileSize, file);
  const headerLength = headerBytes.byteLength;
  return { file, headerLength, dataStart: 8 + headerLength, fileSize, metadata, tensors, warnings };
}

/** Steps 1–8 on a whole file already in memory. */
export function parseHeaderOfFile(bytes: Uint8Array, file: string, options: ReadOptions = {}): SafetensorsHeader {
  const n = readHeaderLength(bytes, bytes.byteLength, file, options);
  return parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength, file);
}

function readTopLevel(cur: JsonCursor, warnings: SafetensorsWarning[]) {
  let metadata: Map<string, string> | null = null;
  const entries: RawEntry[] = [];
  expectObject(cur, 'the header');
  const seen = new Set<string>();
  if (cur.peek() === 0x7d) cur.pos++;
  else {
    for (;;) {
      const key = cur.readString();
      const isMeta = key === '__metadata__';
      if (seen.has(key)) cur.fail('ST_DUPLICATE_KEY', isMeta ? '__metadata__ appears twice' : 'tensor name appears twice', isMeta ? undefined : key);
      seen.add(key);
      cur.expect(':', key, isMeta ? undefined : key);
      if (isMeta) metadata = readMetadata(cur);
      else entries.push(readTensorEntry(cur, key, warnings));
      if (cur.endOfContainer('}')) break;
    }
  }
  cur.expectEnd();
  return { metadata, entries };
}

/** At '{' consume it; at another JSON value it is a schema error (R10/R11); otherwise a syntax error. */
function expectObject(cur: JsonCursor, what: string, tensor?: string): void {
  const c = cur.peek();
  if (c === 0x7b) {
    cur.pos++;
    return;
  }
  if (c < 0) cur.fail('ST_HEADER_JSON', `${what} ends before its JSON object starts`, tensor);
  const kind = valueKind(c);
  if (kind) cur.fail('ST_HEADER_SCHEMA', `${what} must be a JSON object, found ${kind}`, tensor);
  cur.fail('ST_HEADER_JSON', `invalid token ${cur.describe()} where ${what} should start`, tensor);
}

/** `__metadata__`: an object of string → string, or null (A08); anything else is R15. */
function readMetadata(cur: JsonCursor): Map<string, string> | null {
  if (cur.peek() === 0x6e /* n */) {
    cur.readLiteral();
    return null;
  }
  expectObject(cur, '__metadata__');
  const out = new Map<string, string>();
  if (cur.peek() === 0x7d) {
    cur.pos++;
    return out;
  }
  for (;;) {
    const key = cur.readString();
    if (out.has(key)) cur.fail('ST_DUPLICATE_KEY', `__metadata__ key ${quote(key)} appears twice`);
    cur.expect(':', key);
    const c = cur.peek();
    if (c !== 0x22) {
      const kind = valueKind(c);
      // A tensor entry under the name __metadata__ lands here too (its shape is not a string).
      if (kind) cur.fail('ST_HEADER_SCHEMA', `__metadata__ value for ${quote(key)} must be a string, found ${kind}`);
      cur.fail('ST_HEADER_JSON', `invalid token ${cur.describe()}`);
    }
    out.set(key, cur.readString());
    if (cur.endOfContainer('}')) return out;
  }
}

function readTensorEntry(cur: JsonCursor, name: string, warnings: SafetensorsWarning[]): RawEntry {
  expectObject(cur, 'the tensor entry', name);
  let dtype: Dtype | undefined;
  let shape: (number | bigint)[] | undefined;
  let offsets: (number | bigint)[] | undefined;
  let unknown: Set<string> | undefined; // created only when a file has unknown fields (A07)
  let done = cur.peek() === 0x7d;
  if (done) cur.pos++;
  while (!done) {
    const key = cur.readString(name);
    const repeated =
      key === 'dtype' ? dtype !== undefined : key === 'shape' ? shape !== undefined
        : key === 'data_offsets' ? offsets !== undefined : (unknown ??= new Set()).has(key);
    if (repeated) cur.fail('ST_DUPLICATE_KEY', `field ${quote(key)} appears twice`, name);
    cur.expect(':', key, name);
    if (key === 'dtype') dtype = readDtype(cur, name);
    else if (key === 'shape') shape = readShape(cur, name);
    else if (key === 'data_offsets') offsets = readOffsets(cur, name);
    else {
      unknown?.add(key);
      cur.readValue(2, name); // validated (syntax, duplicates, depth) and ignored, as the reference does
      warnings.push({ code: 'ST_W_UNKNOWN_FIELD', file: cur.file, tensor: name, message: `unknown field ${quote(key)} ignored` });
    }
    done = cur.endOfContainer('}', name);
  }
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = [dtype ? '' : 'dtype', shape ? '' : 'shape', offsets ? '' : 'data_offsets'].filter(Boolean);
    cur.fail('ST_HEADER_SCHEMA', `tensor entry is missing ${missing.join(', ')}`, name);
  }
  return { name, dtype, shape, begin: offsets[0] as number, end: offsets[1] as number };
}

function readDtype(cur: JsonCursor, name: string): Dtype {
  const c = cur.peek();
  if (c !== 0x22) {
    const kind = valueKind(c);
    if (kind) cur.fail('ST_DTYPE_INVALID', `dtype must be a string, found ${kind}`, name);
    cur.fail('ST_HEADER_JSON', `invalid token ${cur.describe()}`, name);
  }
  const s = cur.readString(name);
  const dtype = canonicalDtype(s);
  if (dtype) return dtype;
  const upper = s.toUpperCase();
  const hint = isDtype(upper) ? ` (dtypes are case-sensitive: ${upper})` : '';
  return cur.fail('ST_DTYPE_INVALID', `unknown dtype ${quote(s)}${hint}`, name);
}

const U64_MAX = (1n << 64n) - 1n;
/** Stands for any integer token of more than 20 digits: larger than u64, never parsed (BigInt is quadratic). */
const HUGE = 1n << 64n;

/** An array of `0|[1-9][0-9]*` tokens; values above 2^53−1 come back as BigInt. */
function readUintArray(cur: JsonCursor, name: string, field: string): (number | bigint)[] {
  const c = cur.peek();
  if (c !== 0x5b) {
    const kind = valueKind(c);
    if (kind) cur.fail('ST_HEADER_SCHEMA', `${field} must be an array of non-negative integers, found ${kind}`, name);
    cur.fail('ST_HEADER_JSON', `invalid token ${cur.describe()}`, name);
  }
  cur.pos++;
  const out: (number | bigint)[] = [];
  if (cur.peek() === 0x5d) {
    cur.pos++;
    return out;
  }
  do {
    const k = cur.peek();
    const small = cur.readSmallUint();
    if (small >= 0) {
      out.push(small);
      continue;
    }
    if (k !== 0x2d && !(k >= 0x30 && k <= 0x39)) {
      const kind = valueKind(k);
      if (kind) cur.fail('ST_HEADER_SCHEMA', `${field}[${out.length}] must be a non-negative integer, found ${kind}`, name);
      cur.fail('ST_HEADER_JSON', `invalid token ${cur.describe()}`, name);
    }
    const tok = cur.readNumber(name);
    // Checked on the raw token: JSON.parse would turn 2.0 and 2e0 into 2 (R17).
    if (!tok.isUint) cur.fail('ST_HEADER_SCHEMA', `${field}[${out.length}] = ${tok.raw} is not a non-negative integer`, name);
    const raw = tok.raw;
    const v = raw.length <= 15 ? Number(raw) : raw.length > 20 ? HUGE : BigInt(raw);
    out.push(typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  } while (!cur.endOfContainer(']', name));
  return out;
}

function readShape(cur: JsonCursor, name: string): (number | bigint)[] {
  const shape = readUintArray(cur, name, 'shape');
  shape.forEach((d, i) => {
    // The reference fails to deserialize a dimension beyond usize; reported here as an overflow.
    if (typeof d === 'bigint' && d > U64_MAX) cur.fail('ST_OVERFLOW', `shape[${i}] exceeds 2^64−1`, name);
  });
  return shape;
}

function readOffsets(cur: JsonCursor, name: string): number[] {
  const offsets = readUintArray(cur, name, 'data_offsets');
  if (offsets.length !== 2) cur.fail('ST_HEADER_SCHEMA', `data_offsets must have exactly 2 elements, found ${offsets.length}`, name);
  offsets.forEach((o, i) => {
    // Documented divergence (R19): the reference allows up to 2^64−1; no file here can be 8 PiB.
    if (typeof o === 'bigint') {
      const shown = o === HUGE ? 'a value ≥ 2^64' : String(o);
      cur.fail('ST_OFFSET_RANGE', `data_offsets[${i}] is ${shown}, above 2^53−1`, name);
    }
  });
  return offsets as number[];
}
