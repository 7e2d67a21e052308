// The canonical writer: the bytes huggingface/safetensors `serialize` produces (docs/formats.md#safetensors-writer).
//  - tensors ordered by dtype alignment descending, then by name (Rust `String` order = UTF-8 bytes);
//    everything written here is F32, so the order is the name order;
//  - header JSON compact, `__metadata__` first, each entry as {"dtype","shape","data_offsets"};
//  - header padded with spaces to a multiple of 8, data contiguous in the same order.
// `__metadata__` defaults to {"format":"pt"}. With more than one metadata key the reference's order is
// that of a Rust HashMap (unspecified); here it is "format" first, then UTF-8 order, so only files with
// a single metadata key (or none) can be compared byte for byte with the reference.
import { LITTLE_ENDIAN_HOST } from './dtype';
import { quote, SafetensorsError } from './errors';
import { MAX_HEADER_SIZE, parseHeaderOfFile } from './header';

export interface F32Tensor {
  /** Row-major dimensions; `[]` is a scalar. */
  shape: readonly number[];
  data: Float32Array;
}

/** A Map or a list of pairs; a plain object is not accepted (a key `__proto__` would vanish). */
export type TensorSource = ReadonlyMap<string, F32Tensor> | Iterable<readonly [string, F32Tensor]>;

export interface WriteOptions {
  /**
   * Extra string-valued metadata. `format` defaults to "pt" (transformers accepts pt/tf/flax/mlx).
   * `null` writes no `__metadata__` at all, as the reference does when called with metadata=None.
   */
  metadata?: Readonly<Record<string, string>> | ReadonlyMap<string, string> | null;
  /** Refuse NaN/±Inf (EXPORT_NONFINITE, naming tensor and index). Default true: exports never hold them. */
  rejectNonFinite?: boolean;
  /** Name used in error messages. */
  file?: string;
}

/** A streamed export may lay its tensors out as F16/BF16 (2 bytes each; src/io/export/precision.ts rounds them). */
export interface LayoutOptions extends WriteOptions {
  dtype?: 'F32' | 'F16' | 'BF16';
}

export interface PreparedSafetensors {
  /** The 8-byte length prefix followed by the padded header: write this, then each tensor in `order`. */
  head: Uint8Array;
  order: { name: string; tensor: F32Tensor; begin: number; end: number }[];
  totalBytes: number;
}

const FORMATS = new Set(['pt', 'tf', 'flax', 'mlx']);

/** Validates and lays out the tensors; streaming exporters write `head` then `tensorBytes` of each. */
export function prepareSafetensors(tensors: TensorSource, options: WriteOptions = {}): PreparedSafetensors {
  const file = options.file ?? '<export>';
  const list = collect(tensors, file);
  for (const [name, t] of list) checkTensor(name, t, file, options.rejectNonFinite ?? true);
  const byName = new Map(list);
  const { head, order, totalBytes } = layoutSafetensors(list.map(([name, t]) => [name, t.shape]), options);
  return { head, order: order.map((o) => ({ ...o, tensor: byName.get(o.name) as F32Tensor })), totalBytes };
}

export interface SafetensorsLayout {
  /** The 8-byte length prefix followed by the padded header. */
  head: Uint8Array;
  /** F32 tensors in file order, with their byte range in the data buffer. */
  order: { name: string; shape: readonly number[]; begin: number; end: number }[];
  totalBytes: number;
}

/**
 * The canonical F32 layout from names and shapes alone (issue 13 item 6: a streamed export writes the
 * header first, then each tensor as it is produced, checked with checkF32Tensor).
 */
export function layoutSafetensors(entries: Iterable<readonly [string, readonly number[]]>, options: LayoutOptions = {}): SafetensorsLayout {
  const file = options.file ?? '<export>';
  const dtype = options.dtype ?? 'F32';
  const width = dtype === 'F32' ? 4 : 2; // one dtype for the whole file: the order stays the name order
  const list: [string, readonly number[]][] = [];
  const seen = new Set<string>();
  for (const [name, shape] of entries) {
    if (seen.has(name)) throw new SafetensorsError('EXPORT_INVALID', file, 'tensor name given twice', { tensor: name });
    seen.add(name);
    checkName(name, file);
    numelOf(name, shape, file);
    list.push([name, shape]);
  }
  list.sort((a, b) => compareUtf8(a[0], b[0]));
  const order: SafetensorsLayout['order'] = [];
  const parts: string[] = [];
  const metadata = metadataEntries(options.metadata, file);
  if (metadata) parts.push(`"__metadata__":{${metadata.map(([k, v]) => `${json(k)}:${json(v)}`).join(',')}}`);
  let offset = 0;
  for (const [name, shape] of list) {
    const end = offset + width * numelOf(name, shape, file);
    order.push({ name, shape, begin: offset, end });
    parts.push(`${json(name)}:{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const text = new TextEncoder().encode(`{${parts.join(',')}}`);
  const n = Math.ceil(text.length / 8) * 8; // spaces, never NUL: a NUL is a JSON syntax error (R09)
  const head = new Uint8Array(8 + n).fill(0x20, 8 + text.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(text, 8);
  return { head, order, totalBytes: 8 + n + offset };
}

/** The checks of the in-memory writer, for one tensor produced for a streamed write. */
export function checkF32Tensor(name: string, t: F32Tensor, file: string, rejectNonFinite = true): void {
  checkTensor(name, t, file, rejectNonFinite);
}

function checkName(name: string, file: string): void {
  if (name === '__metadata__') throw new SafetensorsError('EXPORT_INVALID', file, 'a tensor cannot be named __metadata__', { tensor: name });
  if (!isWellFormed(name)) throw new SafetensorsError('EXPORT_INVALID', file, 'tensor name contains a lone surrogate (not encodable as UTF-8)', { tensor: name });
}

function numelOf(name: string, shape: readonly number[], file: string): number {
  if (!Array.isArray(shape)) throw new SafetensorsError('EXPORT_INVALID', file, 'shape must be an array of dimensions', { tensor: name });
  let numel = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsError('EXPORT_INVALID', file, `shape [${shape.join(', ')}] has an invalid dimension ${d}`, { tensor: name });
    numel *= d;
  }
  if (!Number.isSafeInteger(numel)) throw new SafetensorsError('EXPORT_INVALID', file, `shape [${shape.join(', ')}] is too large`, { tensor: name });
  return numel;
}

/** Writes the whole file into one buffer, then re-reads it with the strict reader (docs/formats.md#safetensors-writer). */
export function writeSafetensors(tensors: TensorSource, options: WriteOptions = {}): Uint8Array {
  const file = options.file ?? '<export>';
  const { head, order, totalBytes } = prepareSafetensors(tensors, options);
  const out = new Uint8Array(totalBytes);
  out.set(head, 0);
  for (const { tensor, begin } of order) out.set(tensorBytes(tensor), head.length + begin);
  let names: string[];
  try {
    names = parseHeaderOfFile(out, file, { maxHeaderBytes: MAX_HEADER_SIZE }).tensors.map((t) => t.name);
  } catch (cause) {
    throw new SafetensorsError('EXPORT_INVALID', file, 'the written file fails the strict reader', { cause });
  }
  if (names.length !== order.length || names.some((name, i) => name !== order[i].name)) {
    throw new SafetensorsError('EXPORT_INVALID', file, 'tensor names do not survive a write/read round trip');
  }
  return out;
}

/** Little-endian bytes of one tensor (a view on little-endian hosts). */
export function tensorBytes(t: F32Tensor): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(t.data.byteLength);
  const dv = new DataView(out.buffer);
  t.data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return out;
}

/** Code-point (= UTF-8 byte) order; plain `<` compares UTF-16 units and misplaces U+E000..U+FFFF. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(u: number): number {
  // Surrogates (the first unit of U+10000..) must sort after U+E000..U+FFFF.
  return u >= 0xe000 ? u - 0x800 : u >= 0xd800 ? u + 0x2000 : u;
}

function collect(tensors: TensorSource, file: string): [string, F32Tensor][] {
  const list: [string, F32Tensor][] = [];
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    if (typeof name !== 'string') throw new SafetensorsError('EXPORT_INVALID', file, `tensor name ${String(name)} is not a string`);
    if (seen.has(name)) throw new SafetensorsError('EXPORT_INVALID', file, 'tensor name given twice', { tensor: name });
    seen.add(name);
    list.push([name, t]);
  }
  return list;
}

function checkTensor(name: string, t: F32Tensor, file: string, rejectNonFinite: boolean): void {
  const fail = (code: 'EXPORT_INVALID' | 'EXPORT_NONFINITE', detail: string): never => {
    throw new SafetensorsError(code, file, detail, { tensor: name });
  };
  if (name === '__metadata__') fail('EXPORT_INVALID', 'a tensor cannot be named __metadata__');
  if (!isWellFormed(name)) fail('EXPORT_INVALID', 'tensor name contains a lone surrogate (not encodable as UTF-8)');
  if (!(t?.data instanceof Float32Array)) fail('EXPORT_INVALID', 'data must be a Float32Array');
  if (!Array.isArray(t.shape)) fail('EXPORT_INVALID', 'shape must be an array of dimensions');
  let numel = 1;
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail('EXPORT_INVALID', `shape [${t.shape.join(', ')}] has an invalid dimension ${d}`);
    numel *= d;
  }
  if (!Number.isSafeInteger(numel) || numel !== t.data.length) {
    fail('EXPORT_INVALID', `shape [${t.shape.join(', ')}] has ${numel} elements but data has ${t.data.length}`);
  }
  if (!rejectNonFinite) return;
  const { first, count } = countNonFinite(t.data);
  if (count > 0) fail('EXPORT_NONFINITE', `${count} non-finite value(s); first at index ${first} (${t.data[first]})`);
}

function countNonFinite(data: Float32Array): { first: number; count: number } {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v − v is 0 for every finite v and NaN for ±Inf and NaN.
    if (v - v !== 0) {
      if (count++ === 0) first = i;
    }
  }
  return { first, count };
}

function metadataEntries(meta: WriteOptions['metadata'], file: string): [string, string][] | null {
  if (meta === null) return null;
  const entries = meta === undefined ? [] : meta instanceof Map ? [...meta] : Object.entries(meta);
  const map = new Map<string, string>([['format', 'pt']]);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new SafetensorsError('EXPORT_INVALID', file, `metadata ${quote(k)} must be a string, got ${typeof v}`);
    if (!isWellFormed(k) || !isWellFormed(v)) throw new SafetensorsError('EXPORT_INVALID', file, `metadata ${quote(k)} contains a lone surrogate`);
    map.set(k, v);
  }
  const format = map.get('format') as string;
  if (!FORMATS.has(format)) {
    throw new SafetensorsError('EXPORT_INVALID', file, `metadata format ${quote(format)} is not one of pt, tf, flax, mlx`);
  }
  const rest = [...map].filter(([k]) => k !== 'format').sort((a, b) => compareUtf8(a[0], b[0]));
  return [['format', format], ...rest];
}

/** serde_json and JSON.stringify escape a well-formed string identically (`"`, `\`, C0 controls). */
function json(s: string): string {
  return JSON.stringify(s);
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}
