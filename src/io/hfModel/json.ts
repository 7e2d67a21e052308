// Small JSON files of a model folder (config.json, preprocessor_config.json) read with the strict cursor
// of the safetensors module: duplicate keys are errors instead of "last one wins", objects become
// prototype-free Maps (a key `__proto__` is just a key, docs/failure-scenarios.md#b6) and numbers stay raw tokens,
// so `768.0` is told apart from `768`. `JsonFields` reads typed keys with transformers' defaults and
// aliases and names the file and key in every refusal.
import { JsonCursor, type JsonValue, type NumberToken } from '../safetensors/json';
import { SafetensorsError } from '../safetensors/errors';
import { ModelDirError } from './errors';

export type { JsonValue, NumberToken };
export type JsonObject = Map<string, JsonValue>;
type Code = 'MODEL_CONFIG' | 'MODEL_PREPROCESSOR';

/**
 * Parses a whole file that must hold one JSON object; every refusal goes through `fail` so each reader
 * raises its own typed error (ModelDirError here, PeftError for adapter_config.json).
 */
export function readJsonObject(source: string | ArrayBuffer | Uint8Array, file: string, fail: (detail: string, cause?: unknown) => Error): JsonObject {
  let root: JsonValue;
  try {
    const text = typeof source === 'string' ? source : new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(source);
    const cur = new JsonCursor(text, file);
    root = cur.readValue(0);
    cur.expectEnd();
  } catch (cause) {
    // The cursor was written for safetensors headers; keep its position detail, not its wording.
    const detail = cause instanceof SafetensorsError ? cause.detail.replace('header character', 'character') : 'not valid UTF-8';
    throw fail(`not valid JSON: ${detail}`, cause);
  }
  if (!(root instanceof Map)) throw fail(`must hold a JSON object, found ${kindOf(root)}`);
  return root;
}

/** Parses a whole file that must hold one JSON object. */
export function parseJsonObject(source: string | ArrayBuffer | Uint8Array, file: string, code: Code): JsonObject {
  return readJsonObject(source, file, (detail, cause) => new ModelDirError(code, file, detail, cause === undefined ? undefined : { cause }));
}

export function isNumber(v: JsonValue | undefined): v is NumberToken {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map);
}

/** The value's JSON kind, for messages ("a string", "null", "the number 768.0"). */
export function kindOf(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}…` : v)}`;
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'an object';
  return `the number ${v.raw}`;
}

const INT_TOKEN = /^-?(0|[1-9][0-9]*)$/;

export interface IntRange {
  min?: number;
  max?: number;
}

/** Typed access to one JSON object; every failure is a ModelDirError naming `file` and the key. */
export class JsonFields {
  constructor(
    readonly obj: JsonObject,
    readonly file: string,
    readonly code: Code,
  ) {}

  fail(key: string, detail: string): never {
    throw new ModelDirError(this.code, this.file, detail, { key });
  }

  /**
   * The first present key of `keys` (the canonical name first, then transformers' aliases) and its value.
   * Two present keys with different values are refused: transformers would silently let one win.
   */
  pick(keys: readonly string[]): { key: string; value: JsonValue } | undefined {
    let found: { key: string; value: JsonValue } | undefined;
    for (const key of keys) {
      if (!this.obj.has(key)) continue;
      const value = this.obj.get(key) as JsonValue;
      if (!found) found = { key, value };
      else if (!sameValue(found.value, value)) {
        this.fail(key, `is an alias of ${JSON.stringify(found.key)} but has a different value (${kindOf(value)} vs ${kindOf(found.value)})`);
      }
    }
    return found;
  }

  /** Integer key; `null` in the file is refused unless `fallback` is null (a nullable key). */
  int<D extends number | null>(keys: string | readonly string[], fallback: D, range: IntRange = {}): number | D {
    const hit = this.pick(typeof keys === 'string' ? [keys] : keys);
    if (!hit || (hit.value === null && fallback === null)) return fallback;
    const { key, value } = hit;
    if (!isNumber(value) || !INT_TOKEN.test(value.raw)) this.fail(key, `must be an integer, found ${kindOf(value)}`);
    const n = Number(value.raw);
    const min = range.min ?? -Number.MAX_SAFE_INTEGER;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(n) || n < min || n > max) this.fail(key, `is ${value.raw}; allowed range is ${min}..${max}`);
    return n;
  }

  /** Finite number key (an integer token is fine); `exclusiveMin` for epsilons and stds. */
  float(key: string, fallback: number, range: { min?: number; max?: number; exclusiveMin?: number } = {}): number {
    const hit = this.pick([key]);
    if (!hit) return fallback;
    return this.checkFloat(key, hit.value, range);
  }

  checkFloat(key: string, value: JsonValue, range: { min?: number; max?: number; exclusiveMin?: number } = {}): number {
    if (!isNumber(value)) this.fail(key, `must be a number, found ${kindOf(value)}`);
    const x = Number(value.raw);
    if (!Number.isFinite(x)) this.fail(key, `is ${value.raw}, which is not a finite number`);
    if (range.min !== undefined && x < range.min) this.fail(key, `is ${value.raw}; must be ≥ ${range.min}`);
    if (range.max !== undefined && x > range.max) this.fail(key, `is ${value.raw}; must be ≤ ${range.max}`);
    if (range.exclusiveMin !== undefined && !(x > range.exclusiveMin)) this.fail(key, `is ${value.raw}; must be > ${range.exclusiveMin}`);
    return x;
  }

  bool(key: string, fallback: boolean): boolean {
    const hit = this.pick([key]);
    if (!hit) return fallback;
    if (typeof hit.value !== 'boolean') this.fail(key, `must be true or false, found ${kindOf(hit.value)}`);
    return hit.value;
  }

  string<D extends string | null>(key: string, fallback: D): string | D {
    const hit = this.pick([key]);
    if (!hit || (hit.value === null && fallback === null)) return fallback;
    if (typeof hit.value !== 'string') this.fail(key, `must be a string, found ${kindOf(hit.value)}`);
    return hit.value;
  }

  /** Optional list of strings (`architectures`); null when absent or null. */
  stringList(key: string): string[] | null {
    const hit = this.pick([key]);
    if (!hit || hit.value === null) return null;
    if (!Array.isArray(hit.value) || hit.value.some((s) => typeof s !== 'string')) {
      this.fail(key, `must be a list of strings, found ${kindOf(hit.value)}`);
    }
    return hit.value as string[];
  }
}

function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (isNumber(a) && isNumber(b)) return Number(a.raw) === Number(b.raw);
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return a === b;
  return JSON.stringify(toPlain(a)) === JSON.stringify(toPlain(b));
}

/** A JSON value as plain data (objects as entry lists, so `__proto__` keys survive), for comparisons. */
export function toPlain(v: JsonValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) return [...v].map(([k, x]) => [k, toPlain(x)]);
  return Number(v.raw);
}
