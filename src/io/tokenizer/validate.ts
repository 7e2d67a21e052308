// Checks shared by the loaders: each turns one part of an untrusted file into a typed value or throws a
// TokenizerError naming the file, the field and what was wrong.

import type { AddedToken } from './added';
import { TokenizerError, quoteToken, type TokenizerErrorCode } from './errors';

/** Larger than any real tokenizer file (the biggest on the Hub are ~35 MB); refused before parsing. */
export const MAX_TOKENIZER_FILE_CHARS = 100_000_000;
/** Ids at or above this are refused: an embedding with 2^24 rows is far beyond any tokenizer. */
export const MAX_TOKEN_ID = 2 ** 24;

export type JsonObject = Record<string, unknown>;

export class FileCheck {
  constructor(readonly file: string) {}

  fail(code: TokenizerErrorCode, detail: string, cause?: unknown): never {
    throw new TokenizerError(code, this.file, detail, { cause });
  }

  /** JSON.parse with the size cap; JSON.parse keeps `__proto__` as an own key, so no pollution. */
  parseJson(text: string): unknown {
    if (typeof text !== 'string') this.fail('MODEL_TOKENIZER_JSON', `expected the file's text, got ${typeof text}`);
    if (text.length > MAX_TOKENIZER_FILE_CHARS) {
      const mb = (text.length / 1e6).toFixed(0);
      this.fail('MODEL_TOKENIZER_TOO_LARGE', `the file has ${mb} M characters; the limit is ${MAX_TOKENIZER_FILE_CHARS / 1e6} M`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      this.fail('MODEL_TOKENIZER_JSON', `invalid JSON: ${(err as Error).message}`, err);
    }
  }

  object(value: unknown, where: string): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail('MODEL_TOKENIZER_SCHEMA', `${where} must be an object, found ${describe(value)}`);
    }
    return value as JsonObject;
  }

  /** An own field only: a missing `constructor` must not resolve to Object.prototype's. */
  field(obj: JsonObject, key: string): unknown {
    return Object.hasOwn(obj, key) ? obj[key] : undefined;
  }

  bool(obj: JsonObject, key: string, where: string, fallback: boolean): boolean {
    const v = this.field(obj, key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail('MODEL_TOKENIZER_SCHEMA', `${where}.${key} must be true or false, found ${describe(v)}`);
    return v;
  }

  id(value: unknown, where: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail('MODEL_TOKENIZER_VOCAB', `${where} has id ${describe(value)}; ids must be integers`);
    }
    if (value < 0 || value >= MAX_TOKEN_ID) {
      this.fail('MODEL_TOKENIZER_VOCAB', `${where} has id ${value}, outside 0…${MAX_TOKEN_ID - 1}`);
    }
    return value;
  }

  /** token → id, refusing non-integer, out-of-range and repeated ids. */
  vocab(value: unknown, where: string): Map<string, number> {
    const obj = this.object(value, where);
    const vocab = new Map<string, number>();
    const owner = new Map<number, string>();
    for (const [token, raw] of Object.entries(obj)) {
      const id = this.id(raw, `${where} token ${quoteToken(token)}`);
      const other = owner.get(id);
      if (other !== undefined) {
        this.fail('MODEL_TOKENIZER_VOCAB', `${where}: tokens ${quoteToken(other)} and ${quoteToken(token)} share id ${id}`);
      }
      owner.set(id, token);
      vocab.set(token, id);
    }
    if (vocab.size === 0) this.fail('MODEL_TOKENIZER_VOCAB', `${where} is empty`);
    return vocab;
  }

  /** A merge as ids [left, right, result]; HF refuses merges whose tokens or result are not in the vocabulary. */
  merge(left: string, right: string, vocab: ReadonlyMap<string, number>, where: string): [number, number, number] {
    const a = vocab.get(left);
    const b = vocab.get(right);
    const c = vocab.get(left + right);
    const missing = a === undefined ? left : b === undefined ? right : c === undefined ? left + right : null;
    if (missing !== null) {
      const what = `merge ${quoteToken(left)} + ${quoteToken(right)}`;
      this.fail('MODEL_TOKENIZER_MERGES', `${where}: ${what} needs ${quoteToken(missing)}, which is not in the vocabulary`);
    }
    return [a as number, b as number, c as number];
  }

  /** `added_tokens`, checked against the vocabulary: one id per content and one content per id. */
  addedTokens(value: unknown, vocab: ReadonlyMap<string, number>): AddedToken[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail('MODEL_TOKENIZER_SCHEMA', `added_tokens must be an array, found ${describe(value)}`);
    const byId = new Map<number, string>();
    for (const [token, id] of vocab) byId.set(id, token);
    const seen = new Map<string, number>();
    return value.map((raw, i) => {
      const t = this.addedToken(raw, `added_tokens[${i}]`);
      const owner = byId.get(t.id);
      const vocabId = vocab.get(t.content);
      if ((owner !== undefined && owner !== t.content) || (vocabId !== undefined && vocabId !== t.id)) {
        const clash =
          owner !== undefined && owner !== t.content ? `id ${t.id} belongs to ${quoteToken(owner)}` : `the vocabulary gives it id ${vocabId}`;
        this.fail('MODEL_TOKENIZER_VOCAB', `added_tokens[${i}] ${quoteToken(t.content)} has id ${t.id}, but ${clash}`);
      }
      const prior = seen.get(t.content);
      if (prior !== undefined && prior !== t.id) {
        this.fail('MODEL_TOKENIZER_VOCAB', `added_tokens[${i}] ${quoteToken(t.content)} appears with ids ${prior} and ${t.id}`);
      }
      seen.set(t.content, t.id);
      byId.set(t.id, t.content);
      return t;
    });
  }

  private addedToken(raw: unknown, where: string): AddedToken {
    const obj = this.object(raw, where);
    const id = this.id(this.field(obj, 'id'), where);
    const content = this.field(obj, 'content');
    if (typeof content !== 'string' || content.length === 0) {
      this.fail('MODEL_TOKENIZER_SCHEMA', `${where}.content must be a non-empty string, found ${describe(content)}`);
    }
    if (this.bool(obj, 'single_word', where, false)) {
      this.fail('MODEL_TOKENIZER_UNSUPPORTED', `${where} ${quoteToken(content)} has single_word: true`);
    }
    const special = this.bool(obj, 'special', where, false);
    return {
      id,
      content,
      special,
      lstrip: this.bool(obj, 'lstrip', where, false),
      rstrip: this.bool(obj, 'rstrip', where, false),
      normalized: this.bool(obj, 'normalized', where, !special), // HF's default
    };
  }
}

/** A `type` field for messages: `"NFC"` rather than `the string "NFC"`. */
export function typeName(value: unknown): string {
  return typeof value === 'string' ? quoteToken(value) : describe(value);
}

/** A short description of a JSON value for messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${quoteToken(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
