// The byte-level BPE tokenizer: added tokens → ByteLevel pre-tokenizer → BPE on encode, and the ByteLevel
// decoder on decode. Built by the loaders (load.ts) or from a trained tokenizer.json (train.ts).

import { AddedTokenSplitter, type AddedToken } from './added';
import { BpeModel, type BpeModelSpec } from './bpe';
import { pushTokenBytes } from './bytes';
import { splitWords, type ByteLevelPreTokenizerOptions } from './pretokenize';
import { NO_TEMPLATE, type SpecialTemplate } from './special';
import { byteLevelUnits, contentUnits } from './units';

export interface TokenizerSpec extends BpeModelSpec, ByteLevelPreTokenizerOptions {
  addedTokens: readonly AddedToken[];
  /** Explicit end/start-of-text tokens; when absent they are looked up by name (see specialIdByName). */
  eosToken?: string;
  bosToken?: string;
  /** Ids `encode(text, { addSpecialTokens: true })` puts around the text (special.ts decides them). */
  template?: SpecialTemplate;
}

export interface EncodeOptions {
  /**
   * Add the model's special tokens around the text (BOS/EOS), as HF `add_special_tokens=True`; default
   * false, as HF `encode(text, add_special_tokens=False)`. Added tokens in the text are matched either way.
   */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special added tokens, as HF `skip_special_tokens`. */
  skipSpecialTokens?: boolean;
  /**
   * transformers' `clean_up_tokenization_spaces` (" ." → ".", " 's" → "'s" …); default: the config's value
   * on the Tokenizers.js path, false on the hand-written path (which does not implement it).
   */
  cleanUpTokenizationSpaces?: boolean;
}

/** Names of end/start-of-text tokens across GPT-2-style vocabularies, most common first. */
export const EOS_NAMES = ['<|endoftext|>', '<|end_of_text|>', '</s>', '<eos>', '<|eot_id|>'];
export const BOS_NAMES = ['<|startoftext|>', '<|begin_of_text|>', '<s>', '<bos>', '<|endoftext|>'];

/** Lossy decoding like Rust's `String::from_utf8_lossy`: each maximal invalid subpart → one U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export class ByteLevelBpeTokenizer {
  /** Rows an embedding table needs: the largest id in the vocabulary or the added tokens, plus one. */
  readonly vocabSize: number;
  /** End-of-text id (GPT-2: `<|endoftext|>` = 50256), or null when the tokenizer has none. */
  readonly eosTokenId: number | null;
  /** Start-of-text id; GPT-2 uses `<|endoftext|>` for both. */
  readonly bosTokenId: number | null;

  private readonly model: BpeModel;
  private readonly splitter: AddedTokenSplitter;
  /** A Map, not an array: one id near MAX_TOKEN_ID must not allocate a 2^24-slot table (134 MB). */
  private readonly idToToken = new Map<number, string>();
  private readonly addedById = new Map<number, AddedToken>();
  private readonly tokenToIdMap = new Map<string, number>();

  constructor(private readonly spec: TokenizerSpec) {
    this.model = new BpeModel(spec);
    this.splitter = new AddedTokenSplitter(spec.addedTokens);
    for (const [token, id] of spec.vocab) this.tokenToIdMap.set(token, id);
    for (const t of spec.addedTokens) {
      this.addedById.set(t.id, t);
      this.tokenToIdMap.set(t.content, t.id);
    }
    let maxId = -1;
    for (const id of this.tokenToIdMap.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    for (const [token, id] of spec.vocab) this.idToToken.set(id, token);
    this.eosTokenId = this.specialId(spec.eosToken, EOS_NAMES);
    this.bosTokenId = this.specialId(spec.bosToken, BOS_NAMES);
  }

  /** True when the pre-tokenizer prepends a space to text that does not start with one. */
  get addPrefixSpace(): boolean {
    return this.spec.addPrefixSpace;
  }

  /** Token ids of `text`; nothing is added around it unless `opts.addSpecialTokens`. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const template = opts.addSpecialTokens ? (this.spec.template ?? NO_TEMPLATE) : NO_TEMPLATE;
    const ids: number[] = [...template.prefix];
    for (const seg of this.splitter.split(text)) {
      if (seg.token !== undefined) {
        ids.push(seg.token.id);
        continue;
      }
      for (const word of splitWords(seg.text, this.spec)) this.model.encodeWord(word, ids);
    }
    for (const id of template.suffix) ids.push(id);
    return ids;
  }

  /**
   * Text of `ids`. Added tokens contribute their content; runs of vocabulary tokens are turned back into
   * bytes and decoded as UTF-8, invalid sequences becoming U+FFFD. Ids the tokenizer does not know are
   * skipped, as HF does (a model whose embedding is padded past the vocabulary can emit them).
   */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    let text = '';
    const bytes: number[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      const added = this.addedById.get(id);
      if (added !== undefined) {
        if (opts.skipSpecialTokens && added.special) continue;
        text += utf8.decode(Uint8Array.from(bytes));
        bytes.length = 0;
        text += added.content;
        continue;
      }
      const token = this.idToToken.get(id);
      if (token !== undefined) pushTokenBytes(token, bytes);
    }
    return text + utf8.decode(Uint8Array.from(bytes));
  }

  /** Id of a token given in vocabulary form (`Ġthe`) or as added-token content; undefined if unknown. */
  tokenToId(token: string): number | undefined {
    return this.tokenToIdMap.get(token);
  }

  /** Vocabulary form of an id (added tokens: their content); undefined if unknown. */
  idToTokenString(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.idToToken.get(id);
  }

  /** The token's text as UTF-8 bytes (units.ts); undefined for an unknown id. */
  tokenUnits(id: number): number[] | undefined {
    const added = this.addedById.get(id);
    if (added !== undefined) return contentUnits(added.content);
    const token = this.idToToken.get(id);
    return token === undefined ? undefined : byteLevelUnits(token);
  }

  /** True for an added token marked special (what `skipSpecialTokens` leaves out). */
  isSpecial(id: number): boolean {
    return this.addedById.get(id)?.special === true;
  }

  /** An explicit token name must exist; otherwise the first conventional name the tokenizer has. */
  private specialId(explicit: string | undefined, names: readonly string[]): number | null {
    if (explicit !== undefined) return this.tokenToIdMap.get(explicit) ?? null;
    for (const name of names) {
      const id = this.tokenToIdMap.get(name);
      if (id !== undefined) return id;
    }
    return null;
  }
}
