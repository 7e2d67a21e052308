// One entry point for a model folder's tokenizer files: tokenizer.json (+ tokenizer_config.json when the
// folder has one). GPT-2-style byte-level BPE (no normalizer, ByteLevel pre-tokenizer and decoder) goes to the
// hand-written tokenizer (faster, and HF-exact where Tokenizers.js is not; docs/tokenizers.md); every other
// supported kind goes to Tokenizers.js (library.ts). Both get BOS/EOS and the special-token template from
// special.ts, so `encode(text, { addSpecialTokens: true })` means the same on both paths.

import { LibraryTokenizer, checkLibraryComponents } from './library';
import { fromTokenizerObject } from './load';
import { parseTokenizerConfig, resolveTemplate, type TokenizerConfig } from './special';
import { BOS_NAMES, EOS_NAMES, type ByteLevelBpeTokenizer } from './tokenizer';
import { FileCheck, typeName, type JsonObject } from './validate';
import { quoteToken } from './errors';

/** What both implementations offer; the `chat` data path and the trainer use only this. */
export type TextTokenizer = Pick<
  ByteLevelBpeTokenizer,
  'vocabSize' | 'eosTokenId' | 'bosTokenId' | 'encode' | 'decode' | 'tokenToId' | 'idToTokenString' | 'tokenUnits' | 'isSpecial'
>;

export interface TokenizerFiles {
  /** Text of tokenizer.json. */
  tokenizerJson: string;
  /** Text of tokenizer_config.json, when the model folder has one. */
  tokenizerConfig?: string;
}

/** Loads a tokenizer.json (+ config) of any supported family; bad input throws one TokenizerError. */
export function loadTokenizer(files: TokenizerFiles): TextTokenizer {
  const check: FileCheck = new FileCheck('tokenizer.json');
  const root = check.object(check.parseJson(files.tokenizerJson), 'the top level');
  const cfgCheck: FileCheck = new FileCheck('tokenizer_config.json');
  const cfg: TokenizerConfig = files.tokenizerConfig === undefined ? {} : parseTokenizerConfig(cfgCheck, cfgCheck.parseJson(files.tokenizerConfig));
  const idOf = rawIdLookup(check, root);
  const template = resolveTemplate(check, cfgCheck, check.field(root, 'post_processor'), cfg, idOf);
  if (isGpt2Style(check, root)) {
    return fromTokenizerObject(root, 'tokenizer.json', {
      eosToken: cfg.eosToken ?? undefined,
      bosToken: cfg.bosToken ?? undefined,
      template,
    });
  }
  const model = check.object(check.field(root, 'model'), 'model');
  const type = check.field(model, 'type');
  if (type !== 'BPE') check.fail('MODEL_TOKENIZER_UNSUPPORTED', `model.type is ${typeName(type)}; expected "BPE"`);
  checkLibraryComponents(check, root);
  const vocab = check.vocab(check.field(model, 'vocab'), 'model.vocab');
  const added = check.addedTokens(check.field(root, 'added_tokens'), vocab);
  let maxId = -1;
  for (const id of vocab.values()) maxId = Math.max(maxId, id);
  for (const t of added) maxId = Math.max(maxId, t.id);
  const special = (name: string | null | undefined, names: readonly string[], key: string): number | null => {
    if (name === null) return null;
    if (name !== undefined) {
      const id = idOf(name);
      if (id === undefined) cfgCheck.fail('MODEL_TOKENIZER_VOCAB', `the ${key} token ${quoteToken(name)} is not in the vocabulary`);
      return id;
    }
    for (const n of names) {
      const id = idOf(n);
      if (id !== undefined) return id;
    }
    return null;
  };
  return new LibraryTokenizer(check, root, {
    template,
    eosTokenId: special(cfg.eosToken, EOS_NAMES, 'eos'),
    bosTokenId: special(cfg.bosToken, BOS_NAMES, 'bos'),
    vocabSize: maxId + 1,
    // transformers ≥ 4.45 defaults clean_up_tokenization_spaces to false; Tokenizers.js would default to true.
    cleanUpTokenizationSpaces: cfg.cleanUpTokenizationSpaces ?? false,
    addedTokens: added,
  });
}

/** The kind the hand-written tokenizer implements: BPE, no normalizer, ByteLevel pre-tokenizer and decoder. */
function isGpt2Style(check: FileCheck, root: JsonObject): boolean {
  const type = (key: string): unknown => {
    const v = check.field(root, key);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? check.field(v as JsonObject, 'type') : v;
  };
  const normalizer = check.field(root, 'normalizer');
  return (normalizer === undefined || normalizer === null) && type('pre_tokenizer') === 'ByteLevel' && type('decoder') === 'ByteLevel';
}

/** Content → id over added_tokens, then model.vocab, before either is validated (lookups only, own keys). */
function rawIdLookup(check: FileCheck, root: JsonObject): (content: string) => number | undefined {
  const added = new Map<string, number>();
  const list = check.field(root, 'added_tokens');
  if (Array.isArray(list)) {
    for (const t of list) {
      if (typeof t === 'object' && t !== null && typeof t.content === 'string' && Number.isInteger(t.id)) added.set(t.content, t.id);
    }
  }
  const model = check.field(root, 'model');
  const vocab = typeof model === 'object' && model !== null ? check.field(model as JsonObject, 'vocab') : undefined;
  return (content) => {
    const a = added.get(content);
    if (a !== undefined) return a;
    if (typeof vocab !== 'object' || vocab === null || !Object.hasOwn(vocab, content)) return undefined;
    const id = (vocab as JsonObject)[content];
    return Number.isInteger(id) ? (id as number) : undefined;
  };
}
