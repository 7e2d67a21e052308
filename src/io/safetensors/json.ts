// A strict JSON cursor for untrusted headers. JSON.parse cannot be used alone: it keeps the last of
// duplicate keys, turns `2.0` into 2, accepts lone-surrogate escapes and has no depth limit
// (docs/safetensors-checklist.md#parser-rules). This cursor reports each of those as a typed error
// carrying the character position, and lets the header parser read the schema while it scans.
import { SafetensorsError, type SafetensorsErrorCode } from './errors';

/** serde_json's default recursion limit: 128 levels of `[`/`{` are refused, 127 pass. */
export const MAX_DEPTH = 127;

/** A number token, kept as text: integer fields must be checked on the raw token, not on a double. */
export interface NumberToken {
  raw: string;
  /** `0|[1-9][0-9]*`: no sign, fraction or exponent. */
  isUint: boolean;
}

/** Generic JSON value for small auxiliary files (the shard index); objects become prototype-free Maps. */
export type JsonValue = null | boolean | NumberToken | string | JsonValue[] | Map<string, JsonValue>;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonCursor {
  pos = 0;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  fail(code: SafetensorsErrorCode, what: string, tensor?: string): never {
    throw new SafetensorsError(code, this.file, `${what} at header character ${this.pos}`, { tensor });
  }

  /** JSON whitespace is exactly space, tab, LF and CR: a BOM or NUL is a syntax error (R08, R09). */
  skipWs(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      p++;
    }
    this.pos = p;
  }

  /** Next non-whitespace character code, or -1 at the end. */
  peek(): number {
    this.skipWs();
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  /** Consumes `ch`; `afterKey` names the key it follows, for the message (built only on failure). */
  expect(ch: string, afterKey: string, tensor?: string): void {
    if (this.peek() === ch.charCodeAt(0)) {
      this.pos++;
      return;
    }
    const after = afterKey.length > 60 ? `${JSON.stringify(afterKey.slice(0, 57))}…` : JSON.stringify(afterKey);
    this.fail('ST_HEADER_JSON', `expected '${ch}' after key ${after}, found ${this.describe()}`, tensor);
  }

  /** Human-readable description of the next token, for messages. */
  describe(): string {
    const c = this.peek();
    if (c < 0) return 'end of header';
    const kind = valueKind(c);
    if (kind) return kind;
    return JSON.stringify(this.text.slice(this.pos, this.pos + 12));
  }

  /** A quoted string with escapes resolved; control characters and lone surrogates are errors (R21). */
  readString(tensor?: string): string {
    if (this.peek() !== QUOTE) this.fail('ST_HEADER_JSON', `expected a string, found ${this.describe()}`, tensor);
    const t = this.text;
    let p = this.pos + 1;
    let seg = p;
    let out = '';
    for (;;) {
      if (p >= t.length) {
        this.pos = p;
        this.fail('ST_HEADER_JSON', 'unterminated string', tensor);
      }
      const c = t.charCodeAt(p);
      if (c === QUOTE) break;
      if (c < 0x20) {
        this.pos = p;
        this.fail('ST_HEADER_JSON', `raw control character 0x${c.toString(16)} in a string`, tensor);
      }
      if (c !== BACKSLASH) {
        p++;
        continue;
      }
      out += t.slice(seg, p);
      this.pos = p;
      const [s, next] = this.readEscape(p, tensor);
      out += s;
      p = seg = next;
    }
    out += t.slice(seg, p);
    this.pos = p + 1;
    return out;
  }

  private readEscape(p: number, tensor?: string): [string, number] {
    const e = this.text.charCodeAt(p + 1);
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) return [simple, p + 2];
    if (e !== 0x75 /* u */) this.fail('ST_HEADER_JSON', 'invalid escape sequence', tensor);
    const hi = this.hex4(p + 2, tensor);
    if (hi >= 0xdc00 && hi <= 0xdfff) this.fail('ST_HEADER_JSON', `lone low surrogate \\u${hex(hi)}`, tensor);
    if (hi < 0xd800 || hi > 0xdbff) return [String.fromCharCode(hi), p + 6];
    // A high surrogate must be followed by an escaped low surrogate; JSON.parse would accept it alone.
    const t = this.text;
    const lo = t.charCodeAt(p + 6) === BACKSLASH && t.charCodeAt(p + 7) === 0x75 ? this.hex4(p + 8, tensor) : -1;
    if (lo < 0xdc00 || lo > 0xdfff) this.fail('ST_HEADER_JSON', `lone high surrogate \\u${hex(hi)}`, tensor);
    return [String.fromCharCode(hi, lo), p + 12];
  }

  private hex4(p: number, tensor?: string): number {
    const s = this.text.slice(p, p + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(s)) this.fail('ST_HEADER_JSON', 'invalid \\u escape', tensor);
    return parseInt(s, 16);
  }

  /**
   * Fast path for the common token: a plain integer of at most 15 digits (exact as a double). Returns -1
   * with nothing consumed for anything else, which the caller then reads with readNumber.
   */
  readSmallUint(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    let c = t.charCodeAt(p);
    let v = 0;
    while (c >= 0x30 && c <= 0x39) {
      v = v * 10 + (c - 0x30);
      c = t.charCodeAt(++p);
    }
    const n = p - start;
    if (n === 0 || n > 15 || c === 0x2e || c === 0x65 || c === 0x45 || (n > 1 && t.charCodeAt(start) === 0x30)) return -1;
    this.pos = p;
    return v;
  }

  /** A number token per the JSON grammar; a malformed number (`01`, `1.`, `-`) is a syntax error. */
  readNumber(tensor?: string): NumberToken {
    this.skipWs();
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const intStart = p;
    p = digitsEnd(t, p);
    if (p === intStart) this.fail('ST_HEADER_JSON', `malformed number ${this.describe()}`, tensor);
    if (t.charCodeAt(intStart) === 0x30 && p - intStart > 1) this.fail('ST_HEADER_JSON', 'number with a leading zero', tensor);
    let isUint = intStart === start;
    if (t.charCodeAt(p) === 0x2e /* . */) {
      const f = digitsEnd(t, p + 1);
      if (f === p + 1) this.fail('ST_HEADER_JSON', 'number with an empty fraction', tensor);
      p = f;
      isUint = false;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45 /* e E */) {
      const sign = t.charCodeAt(p + 1);
      const x = sign === 0x2b || sign === 0x2d ? p + 2 : p + 1;
      p = digitsEnd(t, x);
      if (p === x) this.fail('ST_HEADER_JSON', 'number with an empty exponent', tensor);
      isUint = false;
    }
    this.pos = p;
    return { raw: t.slice(start, p), isUint };
  }

  readLiteral(tensor?: string): null | boolean {
    const t = this.text;
    for (const [word, value] of LITERALS) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail('ST_HEADER_JSON', `invalid token ${this.describe()}`, tensor);
  }

  /**
   * Reads any JSON value. `depth` is the nesting level of the value's container; objects and arrays
   * inside count one more. Duplicate keys are rejected at every level (R13/R14/R34).
   */
  readValue(depth: number, tensor?: string): JsonValue {
    const c = this.peek();
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth + 1 > MAX_DEPTH) this.fail('ST_HEADER_DEPTH', `JSON nested deeper than ${MAX_DEPTH} levels`, tensor);
      return c === 0x7b ? this.readObject(depth + 1, tensor) : this.readArray(depth + 1, tensor);
    }
    if (c === QUOTE) return this.readString(tensor);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.readNumber(tensor);
    return this.readLiteral(tensor);
  }

  private readObject(depth: number, tensor?: string): Map<string, JsonValue> {
    const out = new Map<string, JsonValue>();
    this.pos++; // '{'
    if (this.peek() === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      const key = this.readString(tensor);
      if (out.has(key)) this.fail('ST_DUPLICATE_KEY', `duplicate key ${JSON.stringify(key)}`, tensor);
      this.expect(':', key, tensor);
      out.set(key, this.readValue(depth, tensor));
      if (this.endOfContainer('}', tensor)) return out;
    }
  }

  private readArray(depth: number, tensor?: string): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // '['
    if (this.peek() === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.readValue(depth, tensor));
      if (this.endOfContainer(']', tensor)) return out;
    }
  }

  /** After an element: ',' continues (a trailing comma then fails on the next read), `close` ends. */
  endOfContainer(close: string, tensor?: string): boolean {
    const c = this.peek();
    if (c === 0x2c) {
      this.pos++;
      return false;
    }
    if (c === close.charCodeAt(0)) {
      this.pos++;
      return true;
    }
    return this.fail('ST_HEADER_JSON', `expected ',' or '${close}', found ${this.describe()}`, tensor);
  }

  /** Anything after the top-level value other than whitespace (`{}{}`, NUL padding) is an error. */
  expectEnd(): void {
    if (this.peek() !== -1) this.fail('ST_HEADER_JSON', `trailing characters (${this.describe()}) after the JSON object`);
  }
}

/** The JSON type that starts with character `c`, or '' when `c` cannot start a value. */
export function valueKind(c: number): string {
  if (c === 0x7b) return 'an object';
  if (c === 0x5b) return 'an array';
  if (c === QUOTE) return 'a string';
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
  if (c === 0x74 || c === 0x66) return 'a boolean';
  if (c === 0x6e) return 'null';
  return '';
}

function digitsEnd(t: string, p: number): number {
  // Written so that NaN (charCodeAt past the end) stops the loop.
  while (p < t.length) {
    const c = t.charCodeAt(p);
    if (!(c >= 0x30 && c <= 0x39)) break;
    p++;
  }
  return p;
}

const LITERALS: [string, null | boolean][] = [
  ['null', null],
  ['true', true],
  ['false', false],
];

const SIMPLE_ESCAPES = new Map<number, string>([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
