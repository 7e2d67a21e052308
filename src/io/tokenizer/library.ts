// Tokenizers other than GPT-2's plain byte-level BPE, run by @huggingface/tokenizers (Tokenizers.js):
//   - byte-level BPE behind a `Sequence` of `Split` regex + ByteLevel pre-tokenizers (Llama-3, Qwen2/Qwen3,
//     SmolLM2), optionally with `ignore_merges` and an NFC normalizer;
//   - SentencePiece-style BPE with `byte_fallback` (`<0xNN>` tokens) and the `▁` Prepend+Replace normalizer or
//     Metaspace pre-tokenizer, decoded by Replace + ByteFallback + Fuse + Strip (Llama-2, TinyLlama, Mistral).
// The library matches HF tokenizers (Rust) id for id on the real files of these families (test/node/
// tokenizer/real.test.ts), so it is used as is. It falls short in two places, kept in our hands:
//   - BOS/EOS: which tokens `addSpecialTokens` adds follows transformers' rules (special.ts), which the library
//     does not implement (it applies tokenizer.json's post_processor only);
//   - the `Digits` pre-tokenizer (SmolLM2): the library's digit test differs from Rust's `char::is_numeric`
//     (categories Nd, Nl, No = `\p{N}`) on characters such as `²`, so `Digits` is rewritten to the `Split`
//     it stands for before the library sees it (withDigitsAsSplit);
//   - the `Metaspace` decoder: Rust drops every `▁` of the first token (prepend_scheme ≠ never), the library
//     only the first one, so text that starts with several spaces decodes with more spaces here (documented,
//     pinned in real.test.ts; encoding is not affected);
//   - GPT-2's own ByteLevel regex reads `\s` as JavaScript does and so splits differently from HF after white
//     space followed by U+FEFF, and is slower than our BPE: that kind stays on the hand-written path (load.ts).
// Components outside the list below are refused by name: nothing untested reaches the library.

import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerError } from './errors';
import type { AddedToken } from './added';
import { NO_TEMPLATE, type SpecialTemplate } from './special';
import type { DecodeOptions, EncodeOptions } from './tokenizer';
import { byteLevelUnits, contentUnits, metaspaceUnits } from './units';
import { describe, typeName, type FileCheck, type JsonObject } from './validate';

const SUPPORTED: Record<string, readonly string[]> = {
  normalizer: ['NFC', 'Prepend', 'Replace', 'Sequence'],
  pre_tokenizer: ['Split', 'ByteLevel', 'Digits', 'Metaspace', 'Sequence'],
  decoder: ['ByteLevel', 'Replace', 'ByteFallback', 'Fuse', 'Strip', 'Metaspace', 'Sequence'],
};
const CHILDREN: Record<string, string> = { normalizer: 'normalizers', pre_tokenizer: 'pretokenizers', decoder: 'decoders' };

/** Refuses any normalizer / pre-tokenizer / decoder type (at any depth of a Sequence) not listed above. */
export function checkLibraryComponents(check: FileCheck, root: JsonObject): void {
  for (const part of Object.keys(SUPPORTED)) {
    const visit = (value: unknown, where: string): void => {
      if (value === undefined || value === null) return;
      const obj = check.object(value, where);
      const type = check.field(obj, 'type');
      if (typeof type !== 'string' || !SUPPORTED[part].includes(type)) {
        check.fail('MODEL_TOKENIZER_UNSUPPORTED', `${where}.type is ${typeName(type)}; supported: ${SUPPORTED[part].join(', ')}`);
      }
      if (type !== 'Sequence') return;
      const list = check.field(obj, CHILDREN[part]);
      if (!Array.isArray(list)) check.fail('MODEL_TOKENIZER_SCHEMA', `${where}.${CHILDREN[part]} must be an array, found ${describe(list)}`);
      list.forEach((c, i) => visit(c, `${where}.${CHILDREN[part]}[${i}]`));
    };
    visit(check.field(root, part), part);
  }
}

/**
 * HF's `Digits` pre-tokenizer as the `Split` it is: each `\p{N}` character alone (individual_digits) or each
 * run of them, isolated. Returns a copy; the caller's object is not changed.
 */
export function withDigitsAsSplit(root: JsonObject): JsonObject {
  const rewrite = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const obj = value as JsonObject;
    if (obj.type === 'Digits') {
      const pattern = obj.individual_digits === true ? '\\p{N}' : '\\p{N}+';
      return { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false };
    }
    if (obj.type === 'Sequence' && Array.isArray(obj.pretokenizers)) return { ...obj, pretokenizers: obj.pretokenizers.map(rewrite) };
    return obj;
  };
  return { ...root, pre_tokenizer: rewrite(root.pre_tokenizer) };
}

export interface LibraryTokenizerOptions {
  template: SpecialTemplate;
  eosTokenId: number | null;
  bosTokenId: number | null;
  vocabSize: number;
  cleanUpTokenizationSpaces: boolean;
  /** added_tokens, validated (auto.ts): their ids map to their content, not to a vocabulary form. */
  addedTokens: readonly AddedToken[];
}

/** LibraryTokenizer.metaspacePrepend from the normalizer and pre-tokenizer of a tokenizer.json. */
function metaspacePrepend(root: JsonObject): 'always' | 'first' | 'never' {
  const find = (value: unknown, type: string, list: string): JsonObject | null => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const obj = value as JsonObject;
    if (obj.type === type) return obj;
    if (obj.type === 'Sequence' && Array.isArray(obj[list])) {
      for (const c of obj[list] as unknown[]) {
        const hit = find(c, type, list);
        if (hit) return hit;
      }
    }
    return null;
  };
  const prepend = find(root.normalizer, 'Prepend', 'normalizers');
  if (prepend && prepend.prepend === '\u2581') return 'always';
  const meta = find(root.pre_tokenizer, 'Metaspace', 'pretokenizers');
  if (!meta) return 'never';
  const scheme = meta.prepend_scheme ?? (meta.add_prefix_space === false ? 'never' : 'always');
  return scheme === 'first' ? 'first' : scheme === 'never' ? 'never' : 'always';
}

/** True when `decoder` (or one of a Sequence's) has the given type. */
function hasDecoder(value: unknown, type: string): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const obj = value as JsonObject;
  if (obj.type === type) return true;
  return obj.type === 'Sequence' && Array.isArray(obj.decoders) && obj.decoders.some((d) => hasDecoder(d, type));
}

/** The same surface as ByteLevelBpeTokenizer, over a Tokenizers.js instance. */
export class LibraryTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number | null;
  readonly bosTokenId: number | null;
  private readonly lib: Tokenizer;
  private readonly template: SpecialTemplate;
  private readonly clean: boolean;
  private readonly addedById = new Map<number, AddedToken>();
  /**
   * Where the normalizer / pre-tokenizer writes a `▁` the text does not have: before every piece between
   * added tokens (Prepend normalizer, Metaspace prepend_scheme "always"), before the first piece only
   * (prepend_scheme "first"), or never. The offset encoder (src/io/chat/offsets.ts) needs it.
   */
  readonly metaspacePrepend: 'always' | 'first' | 'never';
  /** How a vocabulary form spells its text (units.ts): the ByteLevel alphabet, or `▁` and `<0xNN>`. */
  private readonly unitsOf: (vocabForm: string) => number[];

  constructor(check: FileCheck, root: JsonObject, opts: LibraryTokenizerOptions) {
    try {
      // The config passed here only sets decode defaults; special tokens and templates are ours (special.ts).
      this.lib = new Tokenizer(withDigitsAsSplit(root), { clean_up_tokenization_spaces: opts.cleanUpTokenizationSpaces });
    } catch (err) {
      // e.g. a Split pattern JavaScript cannot compile: one line naming the cause, never a raw SyntaxError.
      throw new TokenizerError('MODEL_TOKENIZER_UNSUPPORTED', check.file, `Tokenizers.js cannot build it: ${(err as Error).message}`, { cause: err });
    }
    this.template = opts.template;
    this.eosTokenId = opts.eosTokenId;
    this.bosTokenId = opts.bosTokenId;
    this.vocabSize = opts.vocabSize;
    this.clean = opts.cleanUpTokenizationSpaces;
    for (const t of opts.addedTokens) this.addedById.set(t.id, t);
    // the supported decoders are ByteLevel (byte-level BPE) or Replace ▁ / ByteFallback / Metaspace (SentencePiece)
    this.unitsOf = hasDecoder(root.decoder, 'ByteLevel') ? byteLevelUnits : metaspaceUnits;
    this.metaspacePrepend = metaspacePrepend(root);
  }

  /** Token ids of `text`; the special tokens of special.ts are added only with `addSpecialTokens`. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const template = opts.addSpecialTokens ? this.template : NO_TEMPLATE;
    // add_special_tokens: false — the library's own post-processor never runs; the template is ours.
    const ids = this.lib.encode(text, { add_special_tokens: false }).ids;
    return [...template.prefix, ...ids, ...template.suffix];
  }

  /** Text of `ids`; ids the tokenizer does not know are skipped, as HF does. */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const known: number[] = [];
    for (let k = 0; k < ids.length; k++) if (this.lib.id_to_token(ids[k]) !== undefined) known.push(ids[k]);
    if (known.length === 0) return ''; // the library refuses an empty list; HF returns ""
    return this.lib.decode(known, { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: opts.cleanUpTokenizationSpaces ?? this.clean });
  }

  tokenToId(token: string): number | undefined {
    return this.lib.token_to_id(token);
  }

  idToTokenString(id: number): string | undefined {
    return this.lib.id_to_token(id);
  }

  /** The token's text as UTF-8 bytes, `▁` as META (units.ts); undefined for an unknown id. */
  tokenUnits(id: number): number[] | undefined {
    const added = this.addedById.get(id);
    if (added !== undefined) return contentUnits(added.content);
    const form = this.lib.id_to_token(id);
    return form === undefined ? undefined : this.unitsOf(form);
  }

  /** True for an added token marked special (what `skipSpecialTokens` leaves out). */
  isSpecial(id: number): boolean {
    return this.addedById.get(id)?.special === true;
  }

  /** True for any added token (special or not): the text around it is normalized as separate pieces. */
  isAdded(id: number): boolean {
    return this.addedById.has(id);
  }
}
