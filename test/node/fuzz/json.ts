// A JSON model for structure-aware fuzzing: objects are entry lists (duplicate keys, `__proto__` and key
// order survive), numbers may be raw tokens (`2.0`, `1e400`, 2^64 exactly), and strings may be raw
// escapes (`"\ud800"`). Mutations are plain data drawn by fast-check (an op and a few naturals that pick
// the node), applied deterministically, so a counterexample shrinks and replays from its seed.
import fc from 'fast-check';
import { JsonCursor, type JsonValue } from '../../../src/io/safetensors/json';

/** A number or string token written verbatim. */
export class Raw {
  constructor(readonly text: string) {}
}

export class Obj {
  constructor(public entries: [string, J][]) {}
}

export type J = null | boolean | number | string | Raw | J[] | Obj;

/**
 * Parses valid JSON text into the model with the project's strict cursor, which keeps key order exactly
 * (JSON.parse + Object.entries would move integer-like keys such as "0" to the front) and number tokens
 * verbatim.
 */
export function parseJ(text: string): J {
  const cur = new JsonCursor(text, 'fuzz-base.json');
  const v = cur.readValue(0);
  cur.expectEnd();
  return fromValue(v);
}

function fromValue(v: JsonValue): J {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(fromValue);
  if (v instanceof Map) return new Obj([...v].map(([k, x]) => [k, fromValue(x)]));
  return new Raw(v.raw);
}

/** JSON text; `ws` (JSON whitespace) goes between every pair of tokens. */
export function stringify(v: J, ws = ''): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${ws}${v.entries.map(([k, x]) => `${JSON.stringify(k)}${ws}:${ws}${stringify(x, ws)}`).join(`${ws},${ws}`)}${ws}}`;
  if (Array.isArray(v)) return `[${ws}${v.map((x) => stringify(x, ws)).join(`${ws},${ws}`)}${ws}]`;
  return JSON.stringify(v);
}

/** A value nested `depth` levels deep (iteratively: depth may be far beyond any recursion limit). */
export function nested(depth: number, kind: 'array' | 'object'): Raw {
  const open = kind === 'array' ? '[' : '{"a":';
  const close = kind === 'array' ? ']' : '}';
  return new Raw(open.repeat(depth) + '0' + close.repeat(depth));
}

/** Every node with a way to replace or remove it (valid until the tree changes: recompute per mutation). */
interface Slot {
  node: J;
  /** Key when the parent is an object. */
  key?: string;
  set(v: J): void;
  remove(): void;
  parent: Obj | J[] | null;
  index: number;
}

export function slots(root: J, holder: { root: J }): Slot[] {
  const out: Slot[] = [{ node: root, set: (v) => (holder.root = v), remove: () => (holder.root = null), parent: null, index: 0 }];
  const stack: J[] = [root];
  while (stack.length) {
    const n = stack.pop() as J;
    if (n instanceof Obj) {
      n.entries.forEach((e, i) => {
        out.push({ node: e[1], key: e[0], set: (v) => (e[1] = v), remove: () => n.entries.splice(i, 1), parent: n, index: i });
        stack.push(e[1]);
      });
    } else if (Array.isArray(n)) {
      n.forEach((x, i) => {
        out.push({ node: x, set: (v) => (n[i] = v), remove: () => n.splice(i, 1), parent: n, index: i });
        stack.push(x);
      });
    }
  }
  return out;
}

/** Numbers that break naive readers: 2^53 ± 1, u64 limits, negatives, fractions, exponents, overflow. */
export const HOSTILE_NUMBERS = [
  '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551615', '18446744073709551616',
  '4294967296', '4294967295', '2147483648', '-1', '-0', '-9007199254740993', '0.5', '2.0', '2e0', '1e3', '1e308',
  '1e400', '-1e400', '1E-400', '0', '1' + '0'.repeat(60), '340282366920938463463374607431768211456',
];

/** Wrong-typed values for any field. */
export const HOSTILE_VALUES: J[] = [
  null, true, false, '', 'x', '768', '__proto__', [], [1], [[]], new Obj([]), new Obj([['__proto__', new Obj([['polluted', true]])]]),
  new Raw('"\\ud800"'), new Raw('"\\udc00x"'), new Raw('"\\u0000"'), ...HOSTILE_NUMBERS.map((t) => new Raw(t)),
];

export type TreeMutation =
  | { op: 'remove'; at: number }
  | { op: 'replace'; at: number; value: number }
  | { op: 'number'; at: number; value: number }
  | { op: 'duplicate'; at: number; value: number; same: boolean }
  | { op: 'rename'; at: number; key: string }
  | { op: 'nest'; at: number; depth: number; kind: 'array' | 'object' }
  | { op: 'string'; at: number; text: string };

/** Depths around the 127/128 limit of the strict cursor, and far beyond it. */
export const DEPTHS = [2, 64, 126, 127, 128, 129, 500, 5000, 20_000];

export const treeMutation = (keys: readonly string[] = []): fc.Arbitrary<TreeMutation> => {
  const at = fc.nat();
  const value = fc.nat();
  return fc.oneof(
    fc.record({ op: fc.constant('remove' as const), at }),
    fc.record({ op: fc.constant('replace' as const), at, value }),
    fc.record({ op: fc.constant('number' as const), at, value }),
    fc.record({ op: fc.constant('duplicate' as const), at, value, same: fc.boolean() }),
    fc.record({ op: fc.constant('rename' as const), at, key: fc.oneof(fc.constantFrom('__proto__', 'constructor', '', ...keys), fc.string({ maxLength: 6 })) }),
    fc.record({ op: fc.constant('nest' as const), at, depth: fc.constantFrom(...DEPTHS), kind: fc.constantFrom('array' as const, 'object' as const) }),
    fc.record({ op: fc.constant('string' as const), at, text: fc.string({ unit: 'binary', maxLength: 8 }) }),
  );
};

/** Applies `m` to `holder.root` in place (`at` picks the node modulo the candidates). */
export function applyTree(holder: { root: J }, m: TreeMutation): void {
  const all = slots(holder.root, holder);
  if (m.op === 'number') {
    const nums = all.filter((s) => typeof s.node === 'number' || s.node instanceof Raw);
    if (nums.length) nums[m.at % nums.length].set(new Raw(HOSTILE_NUMBERS[m.value % HOSTILE_NUMBERS.length]));
    return;
  }
  if (m.op === 'rename' || m.op === 'duplicate') {
    const keyed = all.filter((s) => s.parent instanceof Obj);
    if (!keyed.length) return;
    const s = keyed[m.at % keyed.length];
    const obj = s.parent as Obj;
    const i = s.index;
    if (m.op === 'rename') obj.entries[i] = [m.key, obj.entries[i][1]];
    else obj.entries.splice(i + 1, 0, [obj.entries[i][0], m.same ? obj.entries[i][1] : HOSTILE_VALUES[m.value % HOSTILE_VALUES.length]]);
    return;
  }
  const s = all[m.at % all.length];
  if (m.op === 'remove') s.remove();
  else if (m.op === 'replace') s.set(HOSTILE_VALUES[m.value % HOSTILE_VALUES.length]);
  else if (m.op === 'nest') s.set(nested(m.depth, m.kind));
  else s.set(m.text);
}

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, truncated, > U+10FFFF. */
export const INVALID_UTF8: readonly number[][] = [
  [0xff], [0xfe], [0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf0, 0x9f], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82],
];

export type ByteMutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'invalidUtf8'; at: number; seq: number }
  | { op: 'bom' }
  | { op: 'junk'; bytes: Uint8Array };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('invalidUtf8' as const), at: fc.nat(), seq: fc.nat(INVALID_UTF8.length - 1) }),
  fc.record({ op: fc.constant('bom' as const) }),
  fc.record({ op: fc.constant('junk' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
);

/** Byte-level damage to a whole text file (config.json, tokenizer.json). */
export function applyBytes(b: Uint8Array, m: ByteMutation): Uint8Array {
  switch (m.op) {
    case 'truncate':
      return b.slice(0, m.at % (b.length + 1));
    case 'flip': {
      const out = b.slice();
      if (out.length) out[m.at % out.length] ^= 1 << m.bit;
      return out;
    }
    case 'invalidUtf8': {
      const at = m.at % (b.length + 1);
      return Uint8Array.from([...b.subarray(0, at), ...INVALID_UTF8[m.seq], ...b.subarray(at)]);
    }
    case 'bom':
      return Uint8Array.from([0xef, 0xbb, 0xbf, ...b]);
    case 'junk':
      return Uint8Array.from([...b, ...m.bytes]);
  }
}

/** Runs `fn` and returns what it threw (undefined when it returned). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Growth of `process.memoryUsage().arrayBuffers` across `fn` (a soft upper bound; GC can only lower it). */
export function arrayBufferGrowth(fn: () => void): number {
  const before = process.memoryUsage().arrayBuffers;
  fn();
  return process.memoryUsage().arrayBuffers - before;
}

/** Growth of `process.memoryUsage().heapUsed` across `fn` (soft: GC during `fn` can only lower it). */
export function heapGrowth(fn: () => void): number {
  const before = process.memoryUsage().heapUsed;
  fn();
  return process.memoryUsage().heapUsed - before;
}

/** fc.assert parameters: fixed seed, bounded runs, a replay path printed on failure. */
export const params = (seed: number, numRuns: number): fc.Parameters<unknown> => ({ seed, numRuns, verbose: 1 });
