// Loaders: a HF `tokenizer.json`, or GPT-2's original `vocab.json` + `merges.txt` pair. Both accept only
// what this tokenizer reproduces exactly (byte-level BPE, no normalizer) and refuse the rest by name.

import type { AddedToken } from './added';
import { BYTE_TO_CHAR } from './bytes';
import { quoteToken } from './errors';
import type { SpecialTemplate } from './special';
import { ByteLevelBpeTokenizer, type TokenizerSpec } from './tokenizer';
import { FileCheck, MAX_TOKEN_ID, MAX_TOKENIZER_FILE_CHARS, describe, typeName, type JsonObject } from './validate';

export interface SpecialTokenNames {
  /** End-of-text token content (tokenizer_config.json `eos_token`); default: found by name. */
  eosToken?: string;
  /** Start-of-text token content (tokenizer_config.json `bos_token`); default: found by name. */
  bosToken?: string;
  /** Ids `encode(text, { addSpecialTokens: true })` adds; default none (loadTokenizer resolves them). */
  template?: SpecialTemplate;
}

export interface VocabMergesOptions extends SpecialTokenNames {
  vocabFileName?: string;
  mergesFileName?: string;
  /** Vocabulary tokens matched whole before pre-tokenization; default `<|endoftext|>` when present. */
  specialTokens?: readonly string[];
  /** GPT2Tokenizer's `add_prefix_space`; default false, as GPT-2. */
  addPrefixSpace?: boolean;
}

/** Parses and validates a HF tokenizer.json text. */
export function fromTokenizerJson(text: string, fileName = 'tokenizer.json', names: SpecialTokenNames = {}): ByteLevelBpeTokenizer {
  const check: FileCheck = new FileCheck(fileName);
  return fromTokenizerObject(check.parseJson(text), fileName, names);
}

/** Same as fromTokenizerJson for an already parsed value (e.g. the trainer's output). */
export function fromTokenizerObject(value: unknown, fileName = 'tokenizer.json', names: SpecialTokenNames = {}): ByteLevelBpeTokenizer {
  const check: FileCheck = new FileCheck(fileName);
  const root = check.object(value, 'the top level');
  checkNormalizer(check, check.field(root, 'normalizer'));
  const pre = byteLevelComponent(check, check.field(root, 'pre_tokenizer'), 'pre_tokenizer');
  byteLevelComponent(check, check.field(root, 'decoder'), 'decoder');
  const addPrefixSpace = check.field(pre, 'add_prefix_space');
  if (typeof addPrefixSpace !== 'boolean') {
    check.fail('MODEL_TOKENIZER_SCHEMA', `pre_tokenizer.add_prefix_space must be true or false, found ${describe(addPrefixSpace)}`);
  }
  const model = check.object(check.field(root, 'model'), 'model');
  const type = check.field(model, 'type');
  if (type !== 'BPE') {
    const code = type === undefined ? 'MODEL_TOKENIZER_SCHEMA' : 'MODEL_TOKENIZER_UNSUPPORTED';
    check.fail(code, `model.type is ${typeName(type)}; expected "BPE"`);
  }
  const vocab = check.vocab(check.field(model, 'vocab'), 'model.vocab');
  checkBpeOptions(check, model, vocab);
  const merges = tokenizerJsonMerges(check, check.field(model, 'merges'), vocab);
  const addedTokens = check.addedTokens(check.field(root, 'added_tokens'), vocab);
  const unk = check.field(model, 'unk_token');
  if (unk !== undefined && unk !== null && typeof unk !== 'string') {
    check.fail('MODEL_TOKENIZER_SCHEMA', `model.unk_token must be a string or null, found ${describe(unk)}`);
  }
  const unkId = typeof unk === 'string' ? vocab.get(unk) : null;
  if (unkId === undefined) check.fail('MODEL_TOKENIZER_VOCAB', `model.unk_token ${quoteToken(unk as string)} is not in the vocabulary`);
  return build(check, {
    vocab,
    merges,
    unkId,
    fuseUnk: check.bool(model, 'fuse_unk', 'model', false),
    ignoreMerges: check.bool(model, 'ignore_merges', 'model', false),
    addPrefixSpace,
    useRegex: check.bool(pre, 'use_regex', 'pre_tokenizer', true),
    addedTokens,
    ...names,
  });
}

/** Parses GPT-2's vocab.json and merges.txt (whose `#version` line is skipped). */
export function fromVocabMerges(vocabJsonText: string, mergesTxtText: string, opts: VocabMergesOptions = {}): ByteLevelBpeTokenizer {
  const vocabCheck: FileCheck = new FileCheck(opts.vocabFileName ?? 'vocab.json');
  const vocab = vocabCheck.vocab(vocabCheck.parseJson(vocabJsonText), 'the vocabulary');
  const mergesCheck: FileCheck = new FileCheck(opts.mergesFileName ?? 'merges.txt');
  const merges = mergesTxt(mergesCheck, mergesTxtText, vocab);
  // GPT2Tokenizer treats `<|endoftext|>` as special; HF's slow→fast conversion makes it an added token.
  const wanted = opts.specialTokens ?? ['<|endoftext|>'];
  const addedTokens: AddedToken[] = [];
  for (const content of wanted) {
    const id = vocab.get(content);
    if (id === undefined) {
      if (opts.specialTokens === undefined) continue;
      vocabCheck.fail('MODEL_TOKENIZER_VOCAB', `special token ${quoteToken(content)} is not in the vocabulary`);
    }
    addedTokens.push({ id, content, special: true, lstrip: false, rstrip: false, normalized: false });
  }
  const spec = {
    vocab,
    merges,
    unkId: null,
    fuseUnk: false,
    ignoreMerges: false,
    addPrefixSpace: opts.addPrefixSpace ?? false,
    useRegex: true,
    addedTokens,
    eosToken: opts.eosToken,
    bosToken: opts.bosToken,
  };
  return build(vocabCheck, spec);
}

function build(check: FileCheck, spec: TokenizerSpec): ByteLevelBpeTokenizer {
  const tokenizer = new ByteLevelBpeTokenizer(spec);
  for (const [key, name] of [['eos', spec.eosToken], ['bos', spec.bosToken]] as const) {
    if (name !== undefined && tokenizer.tokenToId(name) === undefined) {
      check.fail('MODEL_TOKENIZER_VOCAB', `the ${key} token ${quoteToken(name)} is not in the vocabulary`);
    }
  }
  return tokenizer;
}

function checkNormalizer(check: FileCheck, normalizer: unknown): void {
  if (normalizer === undefined || normalizer === null) return;
  const type = check.field(check.object(normalizer, 'normalizer'), 'type');
  check.fail('MODEL_TOKENIZER_UNSUPPORTED', `a normalizer (type ${typeName(type)}) is present; GPT-2 style tokenizers have none`);
}

/** The pre-tokenizer and the decoder must both be ByteLevel: anything else would encode differently. */
function byteLevelComponent(check: FileCheck, value: unknown, where: string): JsonObject {
  if (value === undefined || value === null) {
    check.fail('MODEL_TOKENIZER_UNSUPPORTED', `${where} is missing; a byte-level BPE needs the ByteLevel ${where}`);
  }
  const obj = check.object(value, where);
  const type = check.field(obj, 'type');
  if (type !== 'ByteLevel') check.fail('MODEL_TOKENIZER_UNSUPPORTED', `${where}.type is ${typeName(type)}; expected "ByteLevel"`);
  return obj;
}

/**
 * Word-piece style affixes change how words are split, so they are refused. `dropout` is ignored (encoding
 * stays deterministic). `byte_fallback` only acts on bytes missing from the vocabulary: inert when all
 * 256 byte tokens exist, refused otherwise.
 */
function checkBpeOptions(check: FileCheck, model: JsonObject, vocab: ReadonlyMap<string, number>): void {
  if (check.bool(model, 'byte_fallback', 'model', false)) {
    const missing = BYTE_TO_CHAR.find((c) => !vocab.has(c));
    if (missing !== undefined) {
      check.fail('MODEL_TOKENIZER_UNSUPPORTED', `model.byte_fallback is true and byte token ${quoteToken(missing)} is missing`);
    }
  }
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    const v = check.field(model, key);
    if (v !== undefined && v !== null && v !== '') {
      check.fail('MODEL_TOKENIZER_UNSUPPORTED', `model.${key} is ${describe(v)}; byte-level BPE uses none`);
    }
  }
}

/** `model.merges` as "a b" strings (tokenizers < 0.20) or [a, b] pairs (≥ 0.20); elements may mix. */
function tokenizerJsonMerges(check: FileCheck, value: unknown, vocab: ReadonlyMap<string, number>): [number, number, number][] {
  if (!Array.isArray(value)) check.fail('MODEL_TOKENIZER_SCHEMA', `model.merges must be an array, found ${describe(value)}`);
  if (value.length >= MAX_TOKEN_ID) check.fail('MODEL_TOKENIZER_MERGES', `model.merges has ${value.length} entries`);
  return value.map((m: unknown, i) => {
    const where = `model.merges[${i}]`;
    let pair: unknown[] | undefined;
    if (typeof m === 'string') pair = m.split(' ');
    else if (Array.isArray(m)) pair = m;
    const ok = pair !== undefined && pair.length === 2 && pair.every((p) => typeof p === 'string' && p.length > 0);
    if (!ok) check.fail('MODEL_TOKENIZER_MERGES', `${where} is ${describe(m)}; expected "left right" or ["left", "right"]`);
    const [left, right] = pair as [string, string];
    return check.merge(left, right, vocab, where);
  });
}

/** One merge per line, "left right"; `#version` lines are skipped, a final newline ends the file. */
function mergesTxt(check: FileCheck, text: string, vocab: ReadonlyMap<string, number>): [number, number, number][] {
  if (typeof text !== 'string') check.fail('MODEL_TOKENIZER_SCHEMA', `expected the file's text, got ${typeof text}`);
  if (text.length > MAX_TOKENIZER_FILE_CHARS) {
    check.fail('MODEL_TOKENIZER_TOO_LARGE', `the file has ${text.length} characters; the limit is ${MAX_TOKENIZER_FILE_CHARS}`);
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const merges: [number, number, number][] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#version')) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      check.fail('MODEL_TOKENIZER_MERGES', `line ${i + 1} is ${quoteToken(line)}; expected "left right"`);
    }
    merges.push(check.merge(parts[0], parts[1], vocab, `line ${i + 1}`));
  });
  return merges;
}
