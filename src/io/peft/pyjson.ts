// Python's `json.dumps(obj, indent=2, sort_keys=…)` byte for byte (PEFT writes adapter_config.json with
// sort_keys=True, transformers writes config.json and shard indexes the same way, docs/formats.md#adapter-config):
//  - separators ("," at line ends, ": " between key and value); one item per line for lists and dicts,
//    `[]` / `{}` when empty;
//  - ensure_ascii: `"` `\` \b \f \n \r \t escaped by name, every other code unit below 0x20 or from
//    0x7F up as \u00xx (lowercase hex, UTF-16 units, so astral characters become surrogate pairs);
//  - ints as digits; floats as Python's repr: shortest round-trip digits, exponent form when the decimal
//    exponent is < −4 or ≥ 16 (`1e-05`, `1e+16`), and a float that is a whole number keeps `.0`.
// JS has one number type, so a float whose value is whole (lora_dropout 0.0) is marked with PyFloat;
// a number token read from a file keeps its text through PyRaw.
import { compareUtf8 } from '../safetensors';

/** A value Python holds as `float` even when it is whole (written `0.0`, `16.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A number token kept as written in the source file (config.json round trips). */
export class PyRaw {
  constructor(readonly raw: string) {}
}

export type PyValue =
  | null
  | boolean
  | string
  | number
  | PyFloat
  | PyRaw
  | readonly PyValue[]
  | ReadonlyMap<string, PyValue>
  | { readonly [key: string]: PyValue };

export interface DumpOptions {
  sortKeys: boolean;
  /** Indent per level; Python's `indent=2`. */
  indent?: number;
}

/** Thrown for values JSON cannot hold (NaN, ±Inf, undefined, functions…); `path` names where. */
export class PyJsonError extends Error {
  override name = 'PyJsonError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export function pyDumps(value: PyValue, options: DumpOptions): string {
  const step = ' '.repeat(options.indent ?? 2);
  const out: string[] = [];
  const write = (v: PyValue, level: number, path: string): void => {
    if (v === null) out.push('null');
    else if (v === true) out.push('true');
    else if (v === false) out.push('false');
    else if (typeof v === 'string') out.push(pyString(v));
    else if (typeof v === 'number') out.push(Number.isInteger(v) ? pyInt(v) : pyFloatRepr(v, path));
    else if (v instanceof PyFloat) out.push(pyFloatRepr(v.value, path));
    else if (v instanceof PyRaw) out.push(v.raw);
    else if (Array.isArray(v)) {
      const list = v as readonly PyValue[];
      if (list.length === 0) return void out.push('[]');
      const inner = step.repeat(level + 1);
      out.push('[');
      list.forEach((item, i) => {
        out.push(i === 0 ? `\n${inner}` : `,\n${inner}`);
        write(item, level + 1, `${path}[${i}]`);
      });
      out.push(`\n${step.repeat(level)}]`);
    } else if (typeof v === 'object') {
      const entries: [string, PyValue][] = v instanceof Map ? [...v] : Object.entries(v as Record<string, PyValue>);
      if (options.sortKeys) entries.sort((a, b) => compareUtf8(a[0], b[0]));
      if (entries.length === 0) return void out.push('{}');
      const inner = step.repeat(level + 1);
      out.push('{');
      entries.forEach(([k, item], i) => {
        out.push(`${i === 0 ? '\n' : ',\n'}${inner}${pyString(k)}: `);
        write(item, level + 1, `${path}.${k}`);
      });
      out.push(`\n${step.repeat(level)}}`);
    } else {
      throw new PyJsonError(path, `${typeof v} is not a JSON value`);
    }
  };
  write(value, 0, '$');
  return out.join('');
}

function pyInt(x: number): string {
  // 1e21.toString() is exponent form; Python prints every digit of an int.
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

/** Python's repr(float). */
export function pyFloatRepr(x: number, path = '$'): string {
  // Python would write NaN / Infinity, which are not JSON: refuse them.
  if (!Number.isFinite(x)) throw new PyJsonError(path, `${x} is not a finite number`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without digits gives the shortest round-trip significand, as Python's repr.
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits.padEnd(exp + 1, '0')}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

const NAMED: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

/** A JSON string as Python writes it with ensure_ascii=True. */
export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const named = NAMED[c];
    if (named !== undefined) out += named;
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
  }
  return `${out}"`;
}
